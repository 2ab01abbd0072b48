// One process that loads $AWS_CONFIG_FILE with the JS SDK v3's loader (loadSharedConfigFiles of
// @smithy/shared-ini-file-loader, its file cache bypassed) once untimed (JIT warm-up), then REPS times,
// and prints the CPU seconds of each load as a JSON list (for config_cost.py's "parse").
//   node config_parse.cjs LOADER_DIR REPS [BUDGET]
// At least REPS loads, and more until they add up to BUDGET CPU seconds (default 0): a load of a few
// milliseconds is measured often enough for its median to hold still.
const [loaderDir, reps, budget] = process.argv.slice(2);
const { loadSharedConfigFiles } = require(loaderDir);
// Run with --expose-gc: a collection before each load keeps the previous load's garbage out of its time
// (on a 2-core machine V8's collector threads otherwise land in one load or another at random).
(async () => {
  await loadSharedConfigFiles({ ignoreCache: true });
  const times = [];
  let total = 0;
  for (let i = 0; i < Number(reps) || (total < Number(budget || 0) && i < 2000); i++) {
    if (global.gc) global.gc();
    const t = process.cpuUsage();
    const c = await loadSharedConfigFiles({ ignoreCache: true });
    if (c.configFile.other.region !== "us-west-2") process.exit(3);
    const d = process.cpuUsage(t);
    times.push((d.user + d.system) / 1e6);
    total += (d.user + d.system) / 1e6;
  }
  console.log(JSON.stringify(times));
})();
