module.exports = require('../dist/nodes/propeller-load');
