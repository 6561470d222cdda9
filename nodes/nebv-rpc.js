module.exports = require('../dist/nodes/nebv-rpc');
