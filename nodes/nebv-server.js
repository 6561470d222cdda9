module.exports = require('../dist/nodes/nebv-server');
