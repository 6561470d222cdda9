module.exports = require('../dist/nodes/bpwin-server');
