module.exports = require('../dist/nodes/semiate-status');
