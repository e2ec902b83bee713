// Chains without the CREATE2 deployment proxy (anvil --disable-default-create2-deployer here; Hardhat's
// node in second-clients.test.ts): ml2sc puts the proxy there by its public presigned transaction, with
// the cost said beforehand, then its admin library; a library deployed by someone else between our check
// and our send is accepted once its code is read back and found genuine.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { getContractAddress, parseTransaction, recoverTransactionAddress } from 'viem'
import { connectChain, type ChainSession } from '../../src/chain/connectChain.ts'
import { ensureAdminLibrary } from '../../src/chain/ensureAdminLibrary.ts'
import { PROXY_DEPLOY_COST, PROXY_DEPLOY_TX, PROXY_RUNTIME, PROXY_SIGNER } from '../../src/chain/create2ProxyTx.ts'
import { sendTx } from '../../src/chain/sendTx.ts'
import { approveSpending, estimateAdminLibraryGas } from '../../src/chain/spendGuard.ts'
import { adminDeployTx, adminLibrary, CREATE2_FACTORY } from '../../src/codegen/admin/adminLibrary.ts'
import { ChainError } from '../../src/errors/base.ts'
import { startRemoteAnvil, type RemoteAnvil } from './helpers.ts'

const chainCfg = (url: string, chainId: number) => ({ rpcUrl: url, chainId, hardfork: 'prague', txGasCap: 16_777_216, blockGasLimit: 30_000_000 })
const opened: ChainSession[] = []
const nodes: RemoteAnvil[] = []
async function proxylessChain(chainId: number): Promise<{ node: RemoteAnvil; s: ChainSession }> {
  const node = await startRemoteAnvil({ chainId, args: ['--disable-default-create2-deployer'] })
  nodes.push(node)
  const s = await connectChain(chainCfg(node.url, chainId), { ML2SC_PRIVATE_KEY: node.keys[0]! })
  opened.push(s)
  return { node, s }
}
beforeAll(() => approveSpending(true))
afterAll(async () => {
  approveSpending(false)
  for (const s of opened) await s.close()
  for (const n of nodes) await n.stop()
})

describe('the CREATE2 deployment proxy', () => {
  test('the presigned transaction: pre-EIP-155, signed by the one-time signer, creating the proxy at 0x4e59…956c', async () => {
    const tx = parseTransaction(PROXY_DEPLOY_TX)
    expect(tx.chainId).toBeUndefined()
    expect(tx.gas).toBe(100_000n)
    expect(tx.gasPrice! * tx.gas!).toBe(PROXY_DEPLOY_COST)
    const signer = await recoverTransactionAddress({ serializedTransaction: PROXY_DEPLOY_TX as Parameters<typeof recoverTransactionAddress>[0]['serializedTransaction'] })
    expect(signer.toLowerCase()).toBe(PROXY_SIGNER)
    expect(getContractAddress({ from: signer, nonce: 0n }).toLowerCase()).toBe(CREATE2_FACTORY)
  })

  test('a chain without it: the estimate names the proxy and its 0.01 ETH, then the proxy and the library land with no manual step', async () => {
    const { s } = await proxylessChain(4243)
    expect(await s.publicClient.getCode({ address: CREATE2_FACTORY })).toBeUndefined()
    const items = await estimateAdminLibraryGas(s)
    expect(items.map((i) => i.label)).toEqual(['CREATE2 deployment proxy (once per chain)', 'admin library (once per chain)'])
    expect(items[0]!.value).toBe(PROXY_DEPLOY_COST)
    const st = await ensureAdminLibrary(s)
    expect((await s.publicClient.getCode({ address: CREATE2_FACTORY }))?.toLowerCase()).toBe(PROXY_RUNTIME)
    expect(st.address).toBe(adminLibrary().address)
    expect(st.proxyFund?.gasUsed).toBe(21_000)
    expect(st.tx?.gasUsed).toBeGreaterThan(0)
    // the library's estimate through a proxy that was not there yet is within 3% of what it used
    expect(Math.abs(Number(items[1]!.gas) - st.tx!.gasUsed) / st.tx!.gasUsed).toBeLessThan(0.03)
    // once there, nothing more to pay
    expect(await estimateAdminLibraryGas(s)).toEqual([])
  })

  test('a node that refuses pre-EIP-155 transactions (as geth does by default): one line saying so and how to allow it', async () => {
    const { node } = await proxylessChain(4251)
    // in front of the node, an RPC that answers the presigned deployment as geth does
    const server = Bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch: async (req) => {
        const body = await req.text()
        const msg = JSON.parse(body) as { id: number; method: string; params?: unknown[] }
        if (msg.method === 'eth_sendRawTransaction' && String(msg.params?.[0]).toLowerCase() === PROXY_DEPLOY_TX)
          return Response.json({ jsonrpc: '2.0', id: msg.id, error: { code: -32000, message: 'only replay-protected (EIP-155) transactions allowed over RPC' } })
        return new Response(await (await fetch(node.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text(), { headers: { 'content-type': 'application/json' } })
      },
    })
    try {
      const s = await connectChain(chainCfg(`http://127.0.0.1:${server.port}`, 4251), { ML2SC_PRIVATE_KEY: node.keys[0]! })
      opened.push(s)
      const err = await ensureAdminLibrary(s).then(
        () => undefined,
        (e: unknown) => e as ChainError,
      )
      expect(err).toBeInstanceOf(ChainError)
      expect(err!.message.split('\n')[0]).toMatch(/chain 4251 refuses the presigned pre-EIP-155 transaction that deploys the CREATE2 deployment proxy/)
      expect(err!.hint).toMatch(/--rpc\.allow-unprotected-txs/)
      // nothing else was sent: the signer holds its 0.01 ETH for a later attempt (which will not fund it again)
      expect(await s.publicClient.getBalance({ address: PROXY_SIGNER })).toBe(PROXY_DEPLOY_COST)
      expect(await s.publicClient.getCode({ address: adminLibrary().address })).toBeUndefined()
    } finally {
      server.stop(true)
    }
  })

  test('front-run: another account deploys the library between our check and our send; ours goes on with the genuine code', async () => {
    const { node, s } = await proxylessChain(4244)
    const rival = await connectChain(chainCfg(node.url, 4244), { ML2SC_PRIVATE_KEY: node.keys[1]! })
    opened.push(rival)
    const lib = adminLibrary()
    const getCode = s.publicClient.getCode.bind(s.publicClient)
    let raced = false
    // our first look at the library's address sees nothing; the rival's deployment lands right after it
    ;(s.publicClient as { getCode: typeof getCode }).getCode = async (a) => {
      const code = await getCode(a)
      if (!raced && a.address.toLowerCase() === lib.address.toLowerCase()) {
        raced = true
        await ensureAdminLibrary(rival)
      }
      return code
    }
    const st = await ensureAdminLibrary(s)
    expect(raced).toBe(true)
    expect(st.tx).toBeNull()
    expect(st.address).toBe(lib.address)
    // and a plain second deployment really does revert (the address is taken)
    await expect(sendTx(s, 'again', { ...adminDeployTx(lib), gas: 1_000_000n })).rejects.toThrow(/reverted/)
  })
})
