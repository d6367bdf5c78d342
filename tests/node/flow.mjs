// The whole fine-tuning flow with the official OpenAI Node.js SDK, against OPENAI_BASE_URL:
// upload → job → events (every page) → checkpoints → chat → stream → Responses API → errors.
// Prints one JSON summary on stdout; any failure exits non-zero (tests/test_node_sdk.py).
import fs from "node:fs";
import OpenAI, { toFile } from "openai";

const client = new OpenAI({ maxRetries: 0 }); // OPENAI_API_KEY and OPENAI_BASE_URL from the env
const [dataset, model] = process.argv.slice(2);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const check = (condition, what) => {
  if (!condition) throw new Error(`check failed: ${what}`);
};

const file = await client.files.create({
  file: await toFile(fs.createReadStream(dataset), "coucou.jsonl"),
  purpose: "fine-tune",
});
check(file.id.startsWith("file-") && file.object === "file", "file object");

let job = await client.fineTuning.jobs.create({
  training_file: file.id,
  model,
  suffix: "node",
  metadata: { sdk: "node" },
});
const deadline = Date.now() + 60_000;
while (!["succeeded", "failed", "cancelled"].includes(job.status)) {
  check(Date.now() < deadline, `job still ${job.status}`);
  await sleep(50);
  job = await client.fineTuning.jobs.retrieve(job.id);
}
check(job.status === "succeeded", `job ${job.status}`);

const events = [];
for await (const event of client.fineTuning.jobs.listEvents(job.id, { limit: 5 })) {
  events.push(event);
}
check(new Set(events.map((e) => e.id)).size === events.length, "no event twice");
check(events.at(-1).message === `Created fine-tuning job: ${job.id}`, "oldest event last");

const checkpoints = [];
for await (const ckpt of client.fineTuning.jobs.checkpoints.list(job.id)) checkpoints.push(ckpt);
check(checkpoints.length > 0, "checkpoints");

const listed = [];
for await (const j of client.fineTuning.jobs.list({ metadata: { sdk: "node" } })) listed.push(j.id);
check(listed.length === 1 && listed[0] === job.id, "metadata filter");

const chat = await client.chat.completions.create({
  model: job.fine_tuned_model,
  messages: [{ role: "user", content: "Bonjour" }],
  temperature: 0,
});
const stream = await client.chat.completions.create({
  model: job.fine_tuned_model,
  messages: [{ role: "user", content: "Bonjour" }],
  stream: true,
  stream_options: { include_usage: true },
});
let streamed = "";
let usage = null;
for await (const chunk of stream) {
  streamed += chunk.choices[0]?.delta?.content ?? "";
  if (chunk.usage) usage = chunk.usage;
}
check(streamed === chat.choices[0].message.content, "stream = completion");
check(usage && usage.total_tokens > 0, "streamed usage");

const response = await client.responses.create({ model: job.fine_tuned_model, input: "Bonjour" });
check(response.output_text === chat.choices[0].message.content, "responses output_text");

let status = null;
try {
  await client.fineTuning.jobs.retrieve("ftjob-doesnotexist");
} catch (err) {
  check(err instanceof OpenAI.NotFoundError, "404 class");
  status = err.status;
}

console.log(
  JSON.stringify({
    job: job.id,
    model: job.fine_tuned_model,
    events: events.length,
    checkpoints: checkpoints.map((c) => c.fine_tuned_model_checkpoint),
    answer: chat.choices[0].message.content,
    streamed,
    response: response.output_text,
    notFound: status,
  }),
);
