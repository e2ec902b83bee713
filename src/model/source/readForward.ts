import { ModelError } from '../../errors/base.ts'
import type { ArchStep } from '../../ir/types.ts'
import { dotted, parseExpr, text, unsupported, type Ctx, type Node } from './expressions.ts'
import { functionalActivationStep } from './activationCalls.ts'
import { FUNCTIONAL_POOLS, functionalPoolStep } from './convModules.ts'
import { functionalName, functionalStep, headerText, numArg, type Mod } from './initModules.ts'
import { lastStepIndex } from './recurrentModules.ts'
import { attentionPoolOf, encoderInput, selfAttentionInput } from './attentionModules.ts'
import { joinValues } from './joinValues.ts'
import type { Stmt } from './statements.ts'

// ---------------------------------------------------------------------------------------------------
// forward: follow the data from the input to the returned value.

/**
 * A tensor value in forward(): the steps applied to the input so far. `seq`: a GRU/LSTM's result, not yet a
 * plain tensor: the (output, h_n[, c_n]) pair, or one of them before its last time step is taken.
 */
export type Value = { steps: ArchStep[]; seq?: { what: 'pair' | 'out' | 'h' | 'c'; batchFirst: boolean; attn?: true } }

const SEQ_HINT = 'take the last time step: out[:, -1, :] (batch_first=True), out[-1] (batch_first=False) or h[-1]; then Linear layers'
export type Binding = { value: Value } | { error: () => never }

export function readForward(fwd: Stmt, modules: Map<string, Mod>, ctx: Ctx): ArchStep[] {
  const header = fwd.tokens
  const open = header.findIndex((t) => t.value === '(')
  // parameters: self, then the input (type hints and defaults allowed)
  const params: string[] = []
  let d = 0
  let expectName = true
  for (let k = open + 1; k < header.length; k++) {
    const t = header[k]!
    if (t.value === '(' || t.value === '[') d++
    else if (t.value === ')' || t.value === ']') {
      if (d === 0) break
      d--
    } else if (d === 0 && t.value === ',') expectName = true
    else if (d === 0 && expectName && t.type === 'name') {
      params.push(t.value)
      expectName = false
    } else if (d === 0 && expectName && (t.value === '*' || t.value === '**')) {
      unsupported(ctx, headerText(ctx, fwd), fwd.line)
    }
  }
  const input = params[1]
  if (!input) throw new ModelError(`forward() at ${ctx.file}:${fwd.line} takes no input`, { where: ctx.where, hint: 'expected def forward(self, x)' })
  if (!fwd.body) unsupported(ctx, headerText(ctx, fwd), fwd.line)

  const env = new Map<string, Binding>([[input, { value: { steps: [] } }]])

  /** A name bound to a MultiheadAttention's output sequence. */
  const attnOut = (n: Node) => {
    const b = n.k === 'name' ? env.get(n.id) : undefined
    // a value whose own statement failed (a masked call): its error, not a later one
    if (b && 'error' in b) b.error()
    return b !== undefined && 'value' in b && b.value.seq?.attn === true && b.value.seq.what === 'out' ? b.value : undefined
  }
  const evaluate = (node: Node): Value => {
    // a.mean(dim=1), a[:, -1, :], a.flatten(1) of an attention output a: its pooling over the tokens
    const cand = node.k === 'other' ? node.obj : node.k === 'call' ? (node.fn.k === 'attr' ? node.fn.obj : node.args[0]) : undefined
    const out = cand && attnOut(cand)
    if (out) {
      const how = attentionPoolOf(node, out.seq!.batchFirst, (n) => n === cand)
      if (!how)
        throw new ModelError(`'${text(ctx, node)}' at ${ctx.file}:${node.line} is not a pooling of MultiheadAttention's output ml2sc runs (batch_first=${out.seq!.batchFirst ? 'True' : 'False'})`, {
          where: ctx.where,
          hint: out.seq!.batchFirst ? 'a.mean(dim=1), a[:, -1, :] or a.flatten(1)' : 'a.mean(dim=0) or a[-1]',
        })
      return { steps: [...out.steps, { op: 'seqpool', how }] }
    }
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
        return { steps: [...evaluate(node.left).steps, { op: 'affine', name: buf, how }] }
      }
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
          return { steps: joinValues('concat', list.items.map((n) => evaluate(n).steps), text(ctx, node)) }
        }
        // self.<module>(x)
        if (fn.k === 'attr' && fn.obj.k === 'name' && fn.obj.id === 'self') {
          const mod = modules.get(fn.attr)
          if (!mod) unsupported(ctx, text(ctx, node), node.line)
          const mha = mod.steps.find((st) => st.op === 'mha')
          if (mha?.op === 'mha' && mha.encoder) {
            const v = plain(evaluate(encoderInput(ctx, node, fn.attr)), node)
            return { steps: [...v.steps, ...mod.steps], seq: { what: 'out', batchFirst: mha.batchFirst === true, attn: true } }
          }
          if (mha) {
            const v = plain(evaluate(selfAttentionInput(ctx, node, fn.attr)), node)
            return { steps: [...v.steps, ...mod.steps], seq: { what: 'pair', batchFirst: 'batchFirst' in mha && mha.batchFirst === true, attn: true } }
          }
          if (node.args.length !== 1 || node.kwargs.size) unsupported(ctx, text(ctx, node), node.line)
          const v = plain(evaluate(node.args[0]!), node)
          const rec = mod.steps.find((st) => st.op === 'gru' || st.op === 'lstm')
          if (rec) return { steps: [...v.steps, ...mod.steps], seq: { what: 'pair', batchFirst: 'batchFirst' in rec && rec.batchFirst === true } }
          return { steps: [...v.steps, ...mod.steps] }
        }
        const full = dotted(fn)
        // F.relu(x), torch.sigmoid(x), F.leaky_relu(x, 0.2), F.softmax(x, dim=1), torch.flatten(x, 1), F.dropout(x, p, training)
        const fname = functionalName(full)
        if (fname) {
          const arg = node.args[0] ?? node.kwargs.get('input')
          if (!arg) unsupported(ctx, text(ctx, node), node.line)
          const v = evaluate(arg)
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
            const o = evaluate(fn.obj)
            // h_n.squeeze(0) of a one-layer GRU/LSTM: h_T
            const v = o.seq?.what === 'h' && method === 'squeeze' ? { steps: o.steps } : plain(o, node)
            return { steps: [...v.steps, { op: 'flatten', name: method }] }
          }
          if (/^(float|double|contiguous)$/.test(method)) {
            const v = evaluate(fn.obj)
            return { steps: [...v.steps, { op: 'skip', name: method }] }
          }
          if (/^(relu|sigmoid|tanh|softmax)$/.test(method)) {
            const v = evaluate(fn.obj)
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
        // out[:, -1, :], out[-1], h[-1]: a GRU/LSTM's last time step
        if (node.what === 'subscript' && node.obj && node.index !== undefined) {
          const o = evaluate(node.obj)
          // self.attn(x, x, x)[0]: the attention's output sequence
          if (o.seq?.attn && o.seq.what === 'pair' && node.index.replace(/\s+/g, '') === '[0]') return { steps: o.steps, seq: { ...o.seq, what: 'out' } }
          if (o.seq?.attn) throw new ModelError(`'${text(ctx, node)}' at ${ctx.file}:${node.line} takes MultiheadAttention's ${o.seq.what === 'out' ? 'output' : 'attention weights'} in a way ml2sc does not run`, { where: ctx.where, hint: 'pool its output: a.mean(dim=1), a[:, -1, :] or a.flatten(1); then Linear layers' })
          if (o.seq && o.seq.what !== 'pair' && lastStepIndex(node.index, o.seq.what, o.seq.batchFirst)) return { steps: o.steps }
          if (o.seq)
            throw new ModelError(`'${text(ctx, node)}' at ${ctx.file}:${node.line} is not the last time step of the ${o.seq.what === 'c' ? 'cell state' : 'sequence'} (batch_first=${o.seq.batchFirst ? 'True' : 'False'}): not supported on chain`, { where: ctx.where, hint: SEQ_HINT })
        }
        unsupported(ctx, text(ctx, node), node.line)
      }
      default:
        unsupported(ctx, text(ctx, node), node.line)
    }
  }

  /** A value that is a plain tensor (the whole output sequence or a (out, h) pair going on is refused). */
  const plain = (v: Value, at: Node): Value => {
    if (!v.seq) return v
    if (v.seq.attn) throw new ModelError(`'${text(ctx, at)}' at ${ctx.file}:${at.line} takes MultiheadAttention's ${v.seq.what === 'pair' ? '(output, weights) pair' : 'whole output sequence'}: its output sequence must be pooled`, { where: ctx.where, hint: 'a, _ = self.attn(x, x, x); then a.mean(dim=1), a[:, -1, :] or a.flatten(1) (batch_first=True), a.mean(dim=0) or a[-1] (batch_first=False)' })
    throw new ModelError(`'${text(ctx, at)}' at ${ctx.file}:${at.line} takes a GRU/LSTM's ${v.seq.what === 'pair' ? '(output, h_n) pair' : 'whole sequence'}: not supported on chain`, { where: ctx.where, hint: SEQ_HINT })
  }

  for (const s of fwd.body) {
    const t = s.tokens
    const first = t[0]!
    if (s.body || /^(for|while|if|elif|else|with|try|def|class|del|global|nonlocal|assert|raise|import|from)$/.test(first.value))
      unsupported(ctx, headerText(ctx, s), s.line)
    if (first.type === 'string' && t.length === 1) continue // docstring
    if (first.value === 'pass' && t.length === 1) continue
    if (first.value === 'return') {
      if (t.length === 1) unsupported(ctx, 'return', s.line)
      const node = parseExpr(t.slice(1), ctx, s.line)
      const v = plain(evaluate(node), node)
      return v.steps
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
      if (v.seq?.what !== 'pair' || names.length < 2 || names.length > 3 || t.slice(0, eq).some((tk) => tk.type !== 'name' && !['(', ')', ','].includes(tk.value)))
        unsupported(ctx, headerText(ctx, s), s.line)
      const whats = ['out', 'h', 'c'] as const
      names.forEach((n, i) => env.set(n, { value: { steps: v.steps, seq: { ...v.seq!, what: whats[i]! } } }))
      continue
    }
    if (first.type === 'name' && eq > 0 && (eq === 1 || t[1]!.value === ':')) {
      const name = first.value
      const rhs = parseExpr(t.slice(eq + 1), ctx, s.line)
      try {
        env.set(name, { value: evaluate(rhs) })
      } catch (err) {
        // only an error if the value is used later (helper variables like `n = x.size(0)` are fine)
        env.set(name, {
          error: () => {
            throw err
          },
        })
      }
      continue
    }
    unsupported(ctx, headerText(ctx, s), s.line)
  }
  throw new ModelError(`forward() at ${ctx.file}:${fwd.line} has no return statement`, { where: ctx.where, hint: 'forward must end with `return <output>`' })
}
