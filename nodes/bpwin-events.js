module.exports = require('../dist/nodes/bpwin-events');
