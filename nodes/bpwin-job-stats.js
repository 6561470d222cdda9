module.exports = require('../dist/nodes/bpwin-job-stats');
