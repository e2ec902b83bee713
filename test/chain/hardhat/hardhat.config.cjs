module.exports = { networks: { hardhat: { chainId: 31337, hardfork: 'prague' } } }
