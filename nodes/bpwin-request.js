module.exports = require('../dist/nodes/bpwin-request');
