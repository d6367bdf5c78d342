// Issue 20 with the official OpenAI Node.js SDK, against OPENAI_BASE_URL: the SDK's own tool
// runner (runTools) ends with a text answer, the 2023 functions format, JSON mode, the alias
// refused for fine-tuning, the real API's type and limit messages, stream obfuscation,
// embeddings and moderations, and the Evals API answer. Prints one JSON summary on stdout; any
// failure exits non-zero (tests/test_node_sdk.py).
import fs from "node:fs";
import OpenAI, { toFile } from "openai";

const client = new OpenAI({ maxRetries: 0 }); // OPENAI_API_KEY and OPENAI_BASE_URL from the env
const [dataset, datedModel] = process.argv.slice(2);
const check = (condition, what) => {
  if (!condition) throw new Error(`check failed: ${what}`);
};
const refusal = async (promise) => {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("check failed: the request should have been refused");
};
const hello = [{ role: "user", content: "Bonjour" }];
const summary = {};

// The SDK's tool runner: it calls the model, runs the tool, sends the result back, until the
// model answers in text (at most 10 completions by default).
let ran = 0;
const runner = client.chat.completions.runTools({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Quelle météo fait-il à Paris ?" }],
  tools: [
    {
      type: "function",
      function: {
        name: "get_weather",
        description: "Météo actuelle d'une ville",
        parameters: {
          type: "object",
          properties: { city: { type: "string" } },
          required: ["city"],
        },
        function: async (args) => {
          ran += 1;
          return `18 °C à ${args.city}`;
        },
        parse: JSON.parse,
      },
    },
  ],
});
const final = await runner.finalContent();
check(typeof final === "string" && final.includes("18 °C"), `runTools final answer: ${final}`);
summary.toolRuns = ran;
summary.completions = (await runner.allChatCompletions()).length;

// The 2023 format: a forced function_call gets a function_call.
const legacy = await client.chat.completions.create({
  model: "gpt-4o-mini",
  messages: hello,
  functions: [
    {
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
    },
  ],
  function_call: { name: "get_weather" },
});
check(legacy.choices[0].message.function_call?.name === "get_weather", "function_call");
summary.functionCall = legacy.choices[0].message.function_call.name;

// JSON mode follows the keys the prompt asks for.
const json = await client.chat.completions.create({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "Réponds en JSON avec les clés « titre » et « note » (entier)." }],
  response_format: { type: "json_object" },
});
summary.jsonKeys = Object.keys(JSON.parse(json.choices[0].message.content));

// Fine-tuning with the alias: refused as the real API refuses it.
const file = await client.files.create({
  file: await toFile(fs.createReadStream(dataset), "coucou.jsonl"),
  purpose: "fine-tune",
});
const alias = await refusal(
  client.fineTuning.jobs.create({ training_file: file.id, model: "gpt-4o-mini" }),
);
summary.alias = { status: alias.status, code: alias.code, param: alias.param, message: alias.error?.message };
const dated = await client.fineTuning.jobs.create({ training_file: file.id, model: datedModel });
check(dated.model === datedModel, "the dated name is accepted");

// The real API's words for a wrong type and for max_tokens above the model's limit.
const typed = await refusal(
  client.chat.completions.create({ model: "gpt-4o-mini", messages: hello, temperature: "0.7" }),
);
const large = await refusal(
  client.chat.completions.create({ model: "gpt-4o-mini", messages: hello, max_tokens: 100000 }),
);
summary.messages = [typed.error?.message, large.error?.message];

// Streams carry the obfuscation field.
const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: hello, stream: true });
let padded = 0;
let chunks = 0;
for await (const chunk of stream) {
  chunks += 1;
  if (typeof chunk.obfuscation === "string" && chunk.obfuscation.length > 0) padded += 1;
}
check(chunks > 1 && padded === chunks, `obfuscation on ${padded}/${chunks} chunks`);
summary.obfuscated = padded;

// Embeddings (the SDK asks for base64 and decodes it) and moderations.
const embedded = await client.embeddings.create({
  model: "text-embedding-3-small",
  input: ["Bonjour", "Salut"],
});
summary.embedding = { count: embedded.data.length, size: embedded.data[0].embedding.length };
const moderated = await client.moderations.create({ input: "Bonjour" });
summary.moderation = {
  flagged: moderated.results[0].flagged,
  categories: Object.keys(moderated.results[0].categories).length,
};

// Routes not imitated, and the Evals API (shut down on 2026-11-30).
const batches = await refusal(client.batches.list());
const evals = await refusal(client.evals.list());
summary.notImitated = { status: batches.status, code: batches.code };
summary.evals = { status: evals.status, code: evals.code };

console.log(JSON.stringify(summary));
