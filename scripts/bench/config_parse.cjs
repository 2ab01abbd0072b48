// One process that loads $AWS_CONFIG_FILE REPS times with the JS SDK v3's loader (loadSharedConfigFiles of
// @smithy/shared-ini-file-loader, its file cache bypassed) and prints the CPU seconds of each load as a
// JSON list (for config_cost.py's "parse").   node config_parse.cjs LOADER_DIR REPS
const [loaderDir, reps] = process.argv.slice(2);
const { loadSharedConfigFiles } = require(loaderDir);
(async () => {
  const times = [];
  for (let i = 0; i < Number(reps); i++) {
    const t = process.cpuUsage();
    const c = await loadSharedConfigFiles({ ignoreCache: true });
    if (c.configFile.other.region !== "us-west-2") process.exit(3);
    const d = process.cpuUsage(t);
    times.push((d.user + d.system) / 1e6);
  }
  console.log(JSON.stringify(times));
})();
