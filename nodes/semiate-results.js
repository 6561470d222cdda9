module.exports = require('../dist/nodes/semiate-results');
