// One process that loads several AWS config files in turn with the JS SDK v3's loader
// (loadSharedConfigFiles of @smithy/shared-ini-file-loader, its file cache bypassed), and prints the CPU
// seconds of each load per file as a JSON object (for config_cost.py's "parse"); the JS twin of
// config_parse.py, whose docstring says why the files are interleaved round by round.
//   node --expose-gc --single-threaded config_parse.cjs LOADER_DIR REPS BUDGET NAME=CONFIG...
// At least REPS rounds, and more until the loads add up to BUDGET CPU seconds per file on average (capped
// at 2,000 rounds), after one untimed load of each file (JIT warm-up).
//
// Run it with --expose-gc: a collection before each load keeps the previous load's garbage out of its
// time. And with --single-threaded: process.cpuUsage() counts every thread of the process, and V8
// otherwise finishes that collection on helper threads while the next load runs, so a load's CPU time
// held some of the last one's clean-up (loading a two-line config took 2.1 ms a load on median that way,
// 0.7 ms single-threaded). On the main thread, each load's time is its own work.
const [loaderDir, reps, budget, ...args] = process.argv.slice(2);
const { loadSharedConfigFiles } = require(loaderDir);
const files = args.map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]);
const load = async (configFilepath) => {
  const c = await loadSharedConfigFiles({ configFilepath, ignoreCache: true });
  if (c.configFile.other?.region !== "us-west-2") {
    console.error(`wrong region for [profile other] in ${configFilepath}`);
    process.exit(3);
  }
};
(async () => {
  for (const [, path] of files) await load(path);
  const times = Object.fromEntries(files.map(([name]) => [name, []]));
  let spent = 0;
  for (let round = 0; round < Number(reps) || (spent < Number(budget) * files.length && round < 2000); round++) {
    const k = round % files.length;
    for (const [name, path] of [...files.slice(k), ...files.slice(0, k)]) {
      if (global.gc) global.gc();
      const t = process.cpuUsage();
      await load(path);
      const d = process.cpuUsage(t);
      times[name].push((d.user + d.system) / 1e6);
      spent += (d.user + d.system) / 1e6;
    }
  }
  console.log(JSON.stringify(times));
})();
