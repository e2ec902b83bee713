// Preloaded (`bun --preload`) by test/commands/startup.test.ts: at exit, print on stderr every module the
// process loaded, one per line after a marker, to check which packages a command pulls in.
process.on('exit', () => {
  process.stderr.write('\n--- modules ---\n' + Object.keys(require.cache).join('\n') + '\n')
})
