module.exports = require('../dist/nodes/semiate-tester');
