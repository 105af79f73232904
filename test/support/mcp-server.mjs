#!/usr/bin/env node
// A real MCP server (stdio, @modelcontextprotocol/sdk) for the approval integration tests.
// Tools:
//   echo {text}  → returns "echo: <text>"; Codex asks the client to approve the call first.
//   ask  {}      → asks the client for a form (elicitInput) and returns what came back, so
//                  the scripted model's next request shows exactly what reached this server.
// Every tool result is also appended to $MCP_TEST_LOG (one JSON per line) when set.
import { appendFileSync } from 'node:fs';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';

export const FORM_SCHEMA = {
  type: 'object',
  properties: {
    name: { type: 'string', title: 'Name', minLength: 1 },
    age: { type: 'integer', title: 'Age', minimum: 0, maximum: 150 },
    color: { type: 'string', title: 'Favourite colour', enum: ['red', 'green', 'blue'] },
  },
  required: ['name', 'age'],
};

const server = new Server({ name: 'switchboard-test', version: '0.0.1' }, { capabilities: { tools: {} } });

const record = (entry) => {
  if (process.env.MCP_TEST_LOG) appendFileSync(process.env.MCP_TEST_LOG, `${JSON.stringify(entry)}\n`);
};

server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: [
    {
      name: 'echo',
      description: 'Echo the given text back.',
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
    },
    {
      name: 'ask',
      description: 'Ask the user for their name and age through a form.',
      inputSchema: { type: 'object', properties: {} },
    },
  ],
}));

server.setRequestHandler(CallToolRequestSchema, async (req) => {
  const { name, arguments: args = {} } = req.params;
  if (name === 'echo') {
    const text = `echo: ${String(args.text)}`;
    record({ tool: 'echo', args });
    return { content: [{ type: 'text', text }] };
  }
  if (name === 'ask') {
    const result = await server.elicitInput({ message: 'Please fill in the form', requestedSchema: FORM_SCHEMA });
    record({ tool: 'ask', result });
    return { content: [{ type: 'text', text: `elicitation result: ${JSON.stringify({ action: result.action, content: result.content ?? null })}` }] };
  }
  return { content: [{ type: 'text', text: `unknown tool ${name}` }], isError: true };
});

await server.connect(new StdioServerTransport());
