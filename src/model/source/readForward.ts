import { ModelError } from '../../errors/base.ts'
import type { ArchStep } from '../../ir/types.ts'
import { dotted, parseExpr, text, unsupported, type Ctx, type Node } from './expressions.ts'
import { functionalActivationStep } from './activationCalls.ts'
import { FUNCTIONAL_POOLS, functionalPoolStep } from './convModules.ts'
import { functionalName, functionalStep, headerText, numArg, type Mod } from './initModules.ts'
import { SEQ_HINT, seqApply, seqCat, seqFlatten, seqIndex, seqPlain, seqSqueeze, seqTranspose, SeqUnsupported, type SeqVal } from '../sequenceValues.ts'
import { alongDim, headName, headValues, joinValues } from './joinValues.ts'
import { chooseBranch, settle } from './constants.ts'
import { asInputStep, columnsOf, embedLookup, flattenLookup, isIndexCast, piecesOf, type InputPart } from './inputColumns.ts'
import { functionalNormStep } from './normModules.ts'
import { attentionPooling, encoderInput, selfAttentionInput } from './attentionModules.ts'
import { forwardParams, splitTopLevel, type Stmt } from './statements.ts'
import { LOOP_HINT, moduleAt, unrollLoop } from './moduleLists.ts'

// ---------------------------------------------------------------------------------------------------
// forward: follow the data from the input to the returned value.

/**
 * A tensor value in forward(): the steps applied to the input so far. `seq`: a GRU/LSTM's result, not yet a
 * plain tensor (../sequenceValues.ts): the (output, h_n[, c_n]) pair, one of them, or states selected from them.
 */
/** `attn`: a MultiheadAttention's result before it is pooled: the (output, weights) pair, or one of them. */
export type Value = { steps: ArchStep[]; seq?: SeqVal; attn?: { what: 'pair' | 'out' | 'weights'; batchFirst: boolean }; input?: true } & InputPart

const PACKED = /(^|\.)(pack_padded_sequence|pack_sequence|pad_packed_sequence|pad_sequence)$/
export type Binding = { value: Value } | { error: () => never }

export function readForward(fwd: Stmt, modules: Map<string, Mod>, ctx: Ctx): ArchStep[] {
  const params = forwardParams(fwd, () => unsupported(ctx, headerText(ctx, fwd), fwd.line))
  const input = params[1]
  if (!input) throw new ModelError(`forward() at ${ctx.file}:${fwd.line} takes no input`, { where: ctx.where, hint: 'expected def forward(self, x)' })
  if (!fwd.body) unsupported(ctx, headerText(ctx, fwd), fwd.line)

  // the model's own input (not a custom block's): its columns may feed nn.Embedding (inputColumns.ts)
  const env = new Map<string, Binding>([[input, { value: { steps: [], ...(ctx.prefix ? {} : { input: true as const }) } }]])

  // names a `for` loop binds to a submodule (blk in self.blocks): moduleLists.ts
  const loopMods = new Map<string, Mod>()
  /** A sequence value taken one step further, or one line naming what PyTorch's value is and why it cannot go on. */
  const onSeq = (v: Value, at: Node, f: (s: SeqVal) => SeqVal): Value => {
    try {
      return { steps: v.steps, seq: f(v.seq!) }
    } catch (e) {
      if (!(e instanceof SeqUnsupported)) throw e
      throw new ModelError(`'${text(ctx, at)}' at ${ctx.file}:${at.line}: ${e.message} is not supported on chain`, { where: ctx.where, hint: SEQ_HINT })
    }
  }
  /** A name bound to a MultiheadAttention's output sequence. */
  const attnOut = (n: Node) => {
    const b = n.k === 'name' ? env.get(n.id) : undefined
    // a value whose own statement failed (a masked call): its error, not a later one
    if (b && 'error' in b) b.error()
    return b !== undefined && 'value' in b && b.value.attn?.what === 'out' ? { steps: b.value.steps, batchFirst: b.value.attn.batchFirst } : undefined
  }
  /** A value as a tensor: an attention output's pooling; columns of the input and embeddings become the input concatenation step. */
  const evaluate = (node: Node): Value => {
    const pooled = attentionPooling(ctx, node, attnOut)
    if (pooled) return { steps: pooled }
    const v = evaluateRaw(node)
    const st = asInputStep(v, ctx, node)
    return st ? { steps: st } : v
  }
  const evaluateRaw = (node: Node): Value => {
    switch (node.k) {
      case 'name': {
        const b = env.get(node.id)
        if (!b) unsupported(ctx, node.id, node.line)
        if ('error' in b) return b.error()
        return b.value
      }
      // (x - self.mean) / self.std: preprocessing with registered buffers, folded into the next Linear
      case 'binop': {
        const r = node.right
        const buf = r.k === 'attr' && r.obj.k === 'name' && r.obj.id === 'self' && modules.get(r.attr)?.buffer ? r.attr : undefined
        if (!buf) unsupported(ctx, text(ctx, node), node.line)
        const how = node.op === '-' ? 'sub' : node.op === '/' ? 'div' : 'mul'
        return { steps: [...evaluate(node.left).steps, { op: 'affine', name: modules.get(buf)!.name ?? buf, how }] }
      }
      // `self.proj(x) if self.use_proj else x`: settled from the constructor's constants
      case 'ifexp':
        return evaluate(settle(ctx, node))
      // h + f(h): a residual add (buildModel keeps every value the sum reads)
      case 'add':
        return { steps: joinValues('add', node.items.map((n) => evaluate(n).steps), text(ctx, node)) }
      case 'call': {
        if (node.star) unsupported(ctx, text(ctx, node), node.line)
        const fn = node.fn
        // torch.cat([a, b], dim=1), torch.cat((a, b), 1), torch.concat / torch.hstack: along the features
        const catName = dotted(fn)
        if (catName && /^torch\.(cat|concat|concatenate|hstack)$/.test(catName)) {
          const list = node.args[0] ?? node.kwargs.get('tensors')
          const dim = node.kwargs.get('dim') ?? node.kwargs.get('axis') ?? node.args[1]
          const dimOk = catName === 'torch.hstack' ? !dim : dim !== undefined && dim.k === 'num' && (dim.v === 1 || dim.v === -1)
          if (!list || (list.k !== 'list' && list.k !== 'tuple') || list.items.length === 0 || !dimOk) unsupported(ctx, text(ctx, node), node.line)
          // cat([self.emb(x[:, 0].long()), x[:, 1:]], dim=1): embeddings and columns of the input
          const raw = list.items.map((n) => evaluateRaw(n))
          if (raw.some((r) => r.embed || r.cols)) {
            const pieces = raw.map((r, k) => piecesOf(r, r.input === true && r.steps.length === 0, ctx, list.items[k]!))
            if (pieces.some((p) => !p)) unsupported(ctx, text(ctx, node), node.line, 'torch.cat of nn.Embedding outputs takes embeddings of input columns and slices of the input (x[:, 1:]) only')
            return { steps: [], embed: pieces.flatMap((p) => p!) }
          }
          // torch.cat((h_n[-2], h_n[-1]), dim=1): states of a GRU/LSTM side by side
          const vals = list.items.map(evaluate)
          if (vals.some((v) => v.seq)) return onSeq(vals.find((v) => v.seq)!, node, () => seqCat(vals.map((v) => v.seq ?? { k: 'c' })))
          return { steps: alongDim(joinValues('concat', vals.map((v) => v.steps), text(ctx, node)), dim?.k === 'num' ? dim.v : undefined) }
        }
        // self.<module>(x)
        const mod = moduleAt(ctx, fn, modules, loopMods)
        if (mod || (fn.k === 'attr' && fn.obj.k === 'name' && fn.obj.id === 'self')) {
          if (!mod || mod.items) unsupported(ctx, text(ctx, node), node.line, mod?.items ? `an nn.${mod.dict ? 'ModuleDict' : 'ModuleList'} is not callable: ${LOOP_HINT}` : undefined)
          const label = text(ctx, fn).replace(/^self\./, '')
          const mha = mod.steps.find((st) => st.op === 'mha')
          if (mha?.op === 'mha' && mha.encoder) {
            const v = plain(evaluate(encoderInput(ctx, node, label)), node)
            return { steps: [...v.steps, ...mod.steps], attn: { what: 'out', batchFirst: mha.batchFirst === true } }
          }
          if (mha) {
            const v = plain(evaluate(selfAttentionInput(ctx, node, label)), node)
            return { steps: [...v.steps, ...mod.steps], attn: { what: 'pair', batchFirst: 'batchFirst' in mha && mha.batchFirst === true } }
          }
          const rec = mod.steps.find((st) => st.op === 'gru' || st.op === 'lstm')
          if (rec && (node.args.length > 1 || node.kwargs.size))
            throw new ModelError(`'${text(ctx, node)}' at ${ctx.file}:${node.line} passes an initial state or lengths to ${rec.op.toUpperCase()} '${label}': not supported on chain (the state starts at zero over a fixed window)`, { where: ctx.where, hint: 'call it as self.' + label + '(x)' })
          if (node.args.length !== 1 || node.kwargs.size) unsupported(ctx, text(ctx, node), node.line)
          // self.emb(x[:, 0].long()): an embedding of one input column
          if (mod.embedding) {
            const idx = evaluateRaw(node.args[0]!)
            return embedLookup(idx, mod.name ?? label, ctx, node)
          }
          const x = evaluate(node.args[0]!)
          // a Linear at every step of a GRU/LSTM's sequence, or on states selected from it
          if (x.seq && !rec) return onSeq(x, node, (sv) => seqApply(sv, mod.steps))
          const v = plain(x, node)
          if (rec) return { steps: [...v.steps, ...mod.steps], seq: { k: 'pair', bf: 'batchFirst' in rec && rec.batchFirst === true } }
          return { steps: [...v.steps, ...mod.steps] }
        }
        const full = dotted(fn)
        if (full && PACKED.test(full))
          throw new ModelError(`'${text(ctx, node)}' at ${ctx.file}:${node.line}: packed or padded variable-length sequences are not supported on chain`, { where: ctx.where, hint: 'ml2sc runs a fixed window of model.inputShape [T, F] steps: pad every window to T in the data, not in forward()' })
        // F.layer_norm(x, (n,), self.w, self.b, eps), F.group_norm(x, 2, self.w, self.b)
        const normName = /^(?:F|functional|nn\.functional|torch\.nn\.functional|torch)\.(layer_norm|group_norm)$/.exec(full ?? '')?.[1]
        if (normName) {
          const arg = node.args[0] ?? node.kwargs.get('input')
          if (!arg) unsupported(ctx, text(ctx, node), node.line)
          return { steps: [...plain(evaluate(arg), node).steps, functionalNormStep(ctx, normName, node)!] }
        }
        // F.relu(x), torch.sigmoid(x), F.leaky_relu(x, 0.2), F.softmax(x, dim=1), torch.flatten(x, 1), F.dropout(x, p, training)
        const fname = functionalName(full)
        if (fname) {
          const arg = node.args[0] ?? node.kwargs.get('input')
          if (!arg) unsupported(ctx, text(ctx, node), node.line)
          const flat = fname === 'flatten' ? flattenLookup(evaluateRaw(arg), fname, { ...node, args: node.args.slice(1) }, ctx) : undefined
          if (flat) return flat
          const v = evaluate(arg)
          if (v.seq) return onSeq(v, node, (sv) => (fname === 'flatten' ? seqFlatten(sv) : seqApply(sv, [functionalStep(fname, undefined)])))
          let slope: number | undefined
          if (fname === 'leaky_relu') slope = numArg(ctx, node.kwargs.get('negative_slope') ?? node.args[1], 'negative_slope')
          if (fname === 'flatten') {
            const start = numArg(ctx, node.kwargs.get('start_dim') ?? node.args[1], 'start_dim') ?? 0
            if (full!.startsWith('torch.') && start !== 1 && start !== -1 && node.args.length + node.kwargs.size > 1)
              unsupported(ctx, text(ctx, node), node.line)
          }
          return { steps: [...v.steps, functionalStep(fname, slope)] }
        }
        // F.gelu(x), F.relu6(x), F.elu(x, alpha=0.5), F.log_softmax(x, dim=1), torch.nn.functional.silu(x)
        const actName = /^(?:F|functional|nn\.functional|torch\.nn\.functional|torch)\.([a-z_0-9]+)$/.exec(full ?? '')?.[1]
        const actStep = actName === undefined ? undefined : functionalActivationStep(ctx, actName, node)
        if (actStep) {
          const arg = node.args[0] ?? node.kwargs.get('input')
          if (!arg) unsupported(ctx, text(ctx, node), node.line)
          const v = evaluate(arg)
          if (v.seq) return onSeq(v, node, (sv) => seqApply(sv, [actStep]))
          return { steps: [...v.steps, actStep] }
        }
        // F.max_pool2d(x, 2), F.avg_pool1d(x, kernel_size=2), F.adaptive_avg_pool2d(x, 1), torch.max_pool2d(…)
        const pool = /^(?:F|functional|nn\.functional|torch\.nn\.functional|torch)\.([a-z_0-9]+)$/.exec(full ?? '')?.[1]
        if (pool && pool in FUNCTIONAL_POOLS) {
          const arg = node.args[0] ?? node.kwargs.get('input')
          if (!arg) unsupported(ctx, text(ctx, node), node.line)
          const v = evaluate(arg)
          return { steps: [...v.steps, functionalPoolStep(ctx, pool, node)] }
        }
        // x.view(x.size(0), -1), x.reshape(x.shape[0], -1), x.flatten(1), x.squeeze(): to [batch, features];
        // x.relu(), x.sigmoid(); x.float(), x.contiguous(): nothing
        if (fn.k === 'attr') {
          const method = fn.attr
          if (/^(view|reshape|flatten|squeeze)$/.test(method)) {
            const flat = flattenLookup(evaluateRaw(fn.obj), method, node, ctx)
            if (flat) return flat
            const o = evaluate(fn.obj)
            // h_n.squeeze(0); out.reshape(B, -1), out.flatten(1): a GRU/LSTM's states
            if (o.seq) {
              const n = node.args.length
              const d = (node.args[0] ?? node.kwargs.get('dim') ?? node.kwargs.get('start_dim')) as Node | undefined
              const num = (x: Node | undefined) => (x?.k === 'num' ? x.v : undefined)
              if (method === 'squeeze') return onSeq(o, node, (sv) => seqSqueeze(sv, num(d)))
              const flat = method === 'flatten' ? num(d) === 1 && n + node.kwargs.size === 1 : n === 2 && (num(node.args[1]) === -1 || num(node.args[0]) === -1)
              if (!flat) throw new ModelError(`'${text(ctx, node)}' at ${ctx.file}:${node.line} reshapes a GRU/LSTM's result other than to [batch, -1]: not supported on chain`, { where: ctx.where, hint: SEQ_HINT })
              return onSeq(o, node, seqFlatten)
            }
            return { steps: [...plain(o, node).steps, { op: 'flatten', name: method }] }
          }
          if (/^(transpose|permute|swapaxes|swapdims)$/.test(method)) {
            const o = evaluate(fn.obj)
            const ax = node.args.map((a) => (a.k === 'num' ? a.v : NaN)).join()
            if (o.seq && (ax === '0,1' || ax === '1,0' || ax === '1,0,2')) return onSeq(o, node, seqTranspose)
            unsupported(ctx, text(ctx, node), node.line)
          }
          // x[:, 0].long(): an index column stays what it is
          if (isIndexCast(method, node, ctx) || /^(float|double|contiguous)$/.test(method)) {
            const o = evaluateRaw(fn.obj)
            if (o.cols || o.embed) return o
          }
          if (/^(float|double|contiguous)$/.test(method)) {
            const v = evaluate(fn.obj)
            if (v.seq) return v
            return { steps: [...v.steps, { op: 'skip', name: method }] }
          }
          if (/^(relu|sigmoid|tanh|softmax)$/.test(method)) {
            const v = evaluate(fn.obj)
            if (v.seq) return onSeq(v, node, (sv) => seqApply(sv, [functionalStep(method, undefined)]))
            return { steps: [...v.steps, functionalStep(method, undefined)] }
          }
        }
        // x.log_softmax(dim=1), x.relu6()
        if (fn.k === 'attr') {
          const step = functionalActivationStep(ctx, fn.attr, node, true)
          if (step) return { steps: [...evaluate(fn.obj).steps, step] }
        }
        unsupported(ctx, text(ctx, node), node.line)
      }
      case 'other': {
        // out[:, -1, :], out[-1], h[-1], h[-2, :, :]: a GRU/LSTM's states, as PyTorch indexes them
        if (node.what === 'subscript' && node.obj && node.index !== undefined) {
          // x[:, 0], x[:, 1:] of the model's input
          const cols = columnsOf(node.index)
          const base = evaluateRaw(node.obj)
          if (cols && base.input && base.steps.length === 0 && !base.cols && !base.embed) return { steps: [], cols }
          const o = asInputStep(base, ctx, node.obj) ? evaluate(node.obj) : base
          // self.attn(x, x, x)[0]: the attention's output sequence
          if (o.attn && o.attn.what === 'pair' && node.index.replace(/\s+/g, '') === '[0]') return { steps: o.steps, attn: { ...o.attn, what: 'out' } }
          if (o.attn) throw new ModelError(`'${text(ctx, node)}' at ${ctx.file}:${node.line} takes MultiheadAttention's ${o.attn.what === 'out' ? 'output' : 'attention weights'} in a way ml2sc does not run`, { where: ctx.where, hint: 'pool its output: a.mean(dim=1), a[:, -1, :] or a.flatten(1); then Linear layers' })
          if (o.seq) return onSeq(o, node, (sv) => seqIndex(sv, node.index!))
        }
        unsupported(ctx, text(ctx, node), node.line)
      }
      default:
        unsupported(ctx, text(ctx, node), node.line)
    }
  }

  /** A value that is a plain tensor: a GRU/LSTM's selected states become its readout (anything else is refused). */
  const plain = (v: Value, at: Node): Value => {
    if (v.attn) throw new ModelError(`'${text(ctx, at)}' at ${ctx.file}:${at.line} takes MultiheadAttention's ${v.attn.what === 'pair' ? '(output, weights) pair' : 'whole output sequence'}: its output sequence must be pooled`, { where: ctx.where, hint: 'a, _ = self.attn(x, x, x); then a.mean(dim=1), a[:, -1, :] or a.flatten(1) (batch_first=True), a.mean(dim=0) or a[-1] (batch_first=False)' })
    return v.seq ? { steps: seqPlainOf(v, at) } : v
  }
  const seqPlainOf = (v: Value, at: Node): ArchStep[] => {
    let out: ArchStep[] = []
    onSeq(v, at, (sv) => ((out = seqPlain(sv, v.steps)), sv))
    return out
  }

  /** The statements of a body in order; the returned value when one of them returns. */
  const run = (stmts: Stmt[]): Value | undefined => {
  for (let si = 0; si < stmts.length; si++) {
    const s = stmts[si]!
    const t = s.tokens
    const first = t[0]!
    // `if self.use_skip:` on a constructor flag: only the branch that holds runs
    if (first.value === 'if' && s.body) {
      const { body, next } = chooseBranch(ctx, stmts, si)
      const v = run(body)
      if (v) return v
      si = next - 1
      continue
    }
    // for blk in self.blocks: … unrolled, once per element (moduleLists.ts)
    if (first.value === 'for' && s.body) {
      const r = unrollLoop(ctx, s, modules, loopMods, run)
      if (r) return r
      continue
    }
    if (s.body || /^(for|while|if|elif|else|with|try|def|class|del|global|nonlocal|assert|raise|import|from|break|continue)$/.test(first.value))
      unsupported(ctx, headerText(ctx, s), s.line, /^(for|while|break|continue)$/.test(first.value) ? LOOP_HINT : undefined)
    if (first.type === 'string' && t.length === 1) continue // docstring
    if (first.value === 'pass' && t.length === 1) continue
    if (first.value === 'return') {
      if (t.length === 1) unsupported(ctx, 'return', s.line)
      // return logits, value  /  return (a, b): a multi-output model, one head per returned tensor, named by headName
      const parts = splitTopLevel(t.slice(1))
      const node = parts.length === 1 ? parseExpr(parts[0]!, ctx, s.line) : undefined
      const items = node ? (node.k === 'tuple' && node.items.length > 1 ? node.items : undefined) : parts.map((p) => parseExpr(p, ctx, s.line))
      if (items) return { steps: headValues(items.map(headName), items.map((n) => plain(evaluate(n), n).steps)) }
      return plain(evaluate(node!), node!)
    }
    // h += f(h): a residual add onto h
    if (first.type === 'name' && t[1]?.type === 'op' && t[1].value === '+=' && t.length > 2) {
      const rhs = parseExpr(t.slice(2), ctx, s.line)
      const before = evaluate({ k: 'name', id: first.value, a: first.start, b: first.end, line: s.line })
      env.set(first.value, { value: { steps: joinValues('add', [before.steps, evaluate(rhs).steps], headerText(ctx, s)) } })
      continue
    }
    // x = <expr>  /  x: Tensor = <expr>
    const eq = t.findIndex((tk) => tk.type === 'op' && tk.value === '=')
    // out, h = self.gru(x)  /  out, (h, c) = self.lstm(x)
    if (eq > 0 && t.slice(0, eq).some((tk) => tk.value === ',')) {
      const names = t.slice(0, eq).filter((tk) => tk.type === 'name').map((tk) => tk.value)
      const rhs = parseExpr(t.slice(eq + 1), ctx, s.line)
      const v = evaluate(rhs)
      if ((v.seq?.k !== 'pair' && v.attn?.what !== 'pair') || names.length < 2 || names.length > 3 || t.slice(0, eq).some((tk) => tk.type !== 'name' && !['(', ')', ','].includes(tk.value)))
        unsupported(ctx, headerText(ctx, s), s.line)
      // a, w = self.attn(x, x, x): the attention's output sequence and its weights
      if (v.attn) names.forEach((n, i) => env.set(n, { value: { steps: v.steps, attn: { ...v.attn!, what: i === 0 ? 'out' : 'weights' } } }))
      else {
        const parts: SeqVal[] = [{ k: 'out', bf: (v.seq as Extract<SeqVal, { k: 'pair' }>).bf }, { k: 'h' }, { k: 'c' }]
        names.forEach((n, i) => env.set(n, { value: { steps: v.steps, seq: parts[i]! } }))
      }
      continue
    }
    if (first.type === 'name' && eq > 0 && (eq === 1 || t[1]!.value === ':')) {
      const name = first.value
      const rhs = parseExpr(t.slice(eq + 1), ctx, s.line)
      // an error only if the value is used later (helper variables like `n = x.size(0)` are fine)
      // m = a.mean(dim=1): a pooling of MultiheadAttention's output is a tensor (read by several heads)
      try { const pooled = attentionPooling(ctx, rhs, attnOut); env.set(name, { value: pooled ? { steps: pooled } : evaluateRaw(rhs) }) } catch (err) { env.set(name, { error: () => { throw err } }) } // prettier-ignore
      continue
    }
    unsupported(ctx, headerText(ctx, s), s.line)
  }
  return undefined
  }
  const out = run(fwd.body)
  if (out) return out.steps
  throw new ModelError(`forward() at ${ctx.file}:${fwd.line} has no return statement`, { where: ctx.where, hint: 'forward must end with `return <output>`' })
}
