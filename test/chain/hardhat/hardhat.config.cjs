// Hardhat's node (Hardhat 2, its EDR engine), started by test/chain/hardhatNode.ts as a second client for
// the chain tests. Hardhat 2 runs on Node 20 (Hardhat 3 needs Node >= 22.13). Its chain has no CREATE2
// deployment proxy, like a fresh Hardhat project's.
module.exports = {
  networks: {
    hardhat: {
      chainId: Number(process.env.ML2SC_HARDHAT_CHAIN_ID || 31337),
      hardfork: process.env.ML2SC_HARDHAT_HARDFORK || 'prague',
    },
  },
}
