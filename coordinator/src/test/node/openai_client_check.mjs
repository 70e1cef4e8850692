// Drives a DecodeFleet coordinator's OpenAI-compatible API with the official OpenAI client for Node.
// Usage: node openai_client_check.mjs BASE_URL API_KEY MODEL
// Prints one "ok <check>" line per passed check; exits 1 at the first failure, naming it.
import OpenAI from 'openai';

const [baseURL, apiKey, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 60_000 });

function check(name, condition, detail) {
  if (!condition) {
    console.error(`FAILED ${name}: ${detail ?? ''}`);
    process.exit(1);
  }
  console.log(`ok ${name}`);
}

async function main() {
  const models = await client.models.list();
  check('models.list names the served model', models.data.some((m) => m.id === model), JSON.stringify(models.data));

  const whole = await client.completions.create({ model, prompt: 'Hello, fleet', max_tokens: 8, ignore_eos: true });
  check('completion: one choice, finish_reason length', whole.choices.length === 1
    && whole.choices[0].finish_reason === 'length', JSON.stringify(whole));
  check('completion: usage counts 8 generated tokens', whole.usage.completion_tokens === 8
    && whole.usage.total_tokens === whole.usage.prompt_tokens + 8, JSON.stringify(whole.usage));

  const stream = await client.completions.create({ model, prompt: 'Hello, fleet', max_tokens: 8, ignore_eos: true,
    stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.choices.length > 0) {
      text += chunk.choices[0].text;
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    if (chunk.usage) usage = chunk.usage;
  }
  check('streamed completion: same text as the whole one (greedy)', text === whole.choices[0].text,
    `${JSON.stringify(text)} vs ${JSON.stringify(whole.choices[0].text)}`);
  check('streamed completion: finish_reason and usage', finish === 'length' && usage?.completion_tokens === 8,
    `${finish} ${JSON.stringify(usage)}`);

  const messages = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hi.' }];
  const chat = await client.chat.completions.create({ model, messages, max_tokens: 6, ignore_eos: true });
  check('chat: assistant message, finish_reason length', chat.object === 'chat.completion'
    && chat.choices[0].message.role === 'assistant' && typeof chat.choices[0].message.content === 'string'
    && chat.choices[0].finish_reason === 'length' && chat.usage.completion_tokens === 6, JSON.stringify(chat));

  const chatStream = await client.chat.completions.create({ model, messages, max_tokens: 6, ignore_eos: true,
    stream: true, stream_options: { include_usage: true } });
  let content = '';
  let role = null;
  let chatFinish = null;
  let chatUsage = null;
  for await (const chunk of chatStream) {
    if (chunk.choices.length > 0) {
      role = chunk.choices[0].delta.role ?? role;
      content += chunk.choices[0].delta.content ?? '';
      chatFinish = chunk.choices[0].finish_reason ?? chatFinish;
    }
    if (chunk.usage) chatUsage = chunk.usage;
  }
  check('streamed chat: role, same content as the whole one, usage', role === 'assistant'
    && content === chat.choices[0].message.content && chatFinish === 'length' && chatUsage?.completion_tokens === 6,
    `${role} ${JSON.stringify(content)} ${chatFinish} ${JSON.stringify(chatUsage)}`);

  const sampled = await client.completions.create({ model, prompt: [5, 6, 7], max_tokens: 5, ignore_eos: true,
    temperature: 0.8, top_p: 0.9, top_k: 20, seed: 42 });
  check('sampled completion with a seed', sampled.usage.completion_tokens === 5, JSON.stringify(sampled));
  const again = await client.completions.create({ model, prompt: [5, 6, 7], max_tokens: 5, ignore_eos: true,
    temperature: 0.8, top_p: 0.9, top_k: 20, seed: 42 });
  check('the same seed draws the same text', again.choices[0].text === sampled.choices[0].text,
    `${JSON.stringify(again.choices[0].text)} vs ${JSON.stringify(sampled.choices[0].text)}`);

  try {
    await client.completions.create({ model, prompt: 'x', max_tokens: 4, temperature: -1 });
    check('temperature -1 is refused', false, 'no error');
  } catch (e) {
    check('temperature -1 is refused with 400 naming the field', e instanceof OpenAI.BadRequestError
      && e.status === 400 && e.param === 'temperature', `${e.constructor.name} ${e.status} ${e.param} ${e.message}`);
  }
  try {
    await client.chat.completions.create({ model, messages, n: 2 });
    check('n 2 is refused', false, 'no error');
  } catch (e) {
    check('n 2 is refused with 400 naming the field', e.status === 400 && e.param === 'n', `${e.status} ${e.message}`);
  }
  try {
    await client.completions.create({ model: 'no-such-model', prompt: 'x', max_tokens: 1 });
    check('an unknown model is refused', false, 'no error');
  } catch (e) {
    check('an unknown model is 404', e instanceof OpenAI.NotFoundError, `${e.status} ${e.message}`);
  }
  const stranger = new OpenAI({ baseURL, apiKey: 'wrong-key', maxRetries: 0 });
  try {
    await stranger.models.list();
    check('a wrong API key is refused', false, 'no error');
  } catch (e) {
    check('a wrong API key is 401', e instanceof OpenAI.AuthenticationError, `${e.status} ${e.message}`);
  }
}

main().catch((e) => {
  console.error(`FAILED with ${e?.constructor?.name}: ${e?.status ?? ''} ${e?.message ?? e}`);
  process.exit(1);
});
