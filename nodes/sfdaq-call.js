module.exports = require('../dist/nodes/sfdaq-call');
