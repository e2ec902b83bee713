/** One thing wrong in a config: where (key path and YAML segments) and what. */
export type Problem = {
  /** Key path such as `model.path` or `model.layers[0]` (empty for the whole document). */
  path: string
  /** The raw path segments, used to find the YAML line. */
  segments: (string | number)[]
  message: string
}
