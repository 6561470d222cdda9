module.exports = require('../dist/nodes/sfdaq-broker');
