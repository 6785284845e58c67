// A small in-process endpoint that speaks the Glue JSON protocol, used through the real
// @aws-sdk/client-glue (no Glue emulator runs here). It keeps tables and partitions in memory and
// records every call so tests can check what the adapter sent.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GlueClient } from '@aws-sdk/client-glue';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- wire JSON in a test fake

export interface FakeGlue {
  client: GlueClient;
  calls: Array<{ op: string; body: Json }>;
  tables: Map<string, Json>;
  partitions: Map<string, Json[]>;
  /** fail the next call of an operation with a Glue error type */
  failNext: Map<string, string>;
  /** fail the next N calls of an operation with ThrottlingException */
  throttle: Map<string, number>;
  endpoint: string;
  close(): Promise<void>;
}

export async function startFakeGlue(): Promise<FakeGlue> {
  const calls: FakeGlue['calls'] = [];
  const tables = new Map<string, Json>();
  const partitions = new Map<string, Json[]>();
  const failNext = new Map<string, string>();
  const throttle = new Map<string, number>();
  let version = 0;

  const handle = (op: string, b: Json): [number, Json] => {
    const throttled = throttle.get(op) ?? 0;
    if (throttled > 0) {
      throttle.set(op, throttled - 1);
      return [400, { __type: 'ThrottlingException', Message: 'Rate exceeded' }];
    }
    const injected = failNext.get(op);
    if (injected) {
      failNext.delete(op);
      return [400, { __type: injected, Message: `injected ${injected}` }];
    }
    const name = b['Name'] ?? b['TableName'] ?? b['TableInput']?.['Name'];
    switch (op) {
      case 'CreateTable':
        if (tables.has(name)) return [400, { __type: 'AlreadyExistsException', Message: `Table already exists: ${name}` }];
        tables.set(name, { ...b['TableInput'], VersionId: String(++version), DatabaseName: b['DatabaseName'] });
        return [200, {}];
      case 'GetTable':
        if (!tables.has(name)) return [400, { __type: 'EntityNotFoundException', Message: `Table ${name} not found` }];
        return [200, { Table: tables.get(name) }];
      case 'UpdateTable': {
        const current = tables.get(name);
        if (!current) return [400, { __type: 'EntityNotFoundException', Message: 'not found' }];
        if (b['VersionId'] && b['VersionId'] !== current['VersionId']) return [400, { __type: 'ConcurrentModificationException', Message: 'version mismatch' }];
        tables.set(name, { ...b['TableInput'], VersionId: String(++version), DatabaseName: b['DatabaseName'] });
        return [200, {}];
      }
      case 'GetTables':
        return [200, { TableList: [...tables.values()] }];
      case 'BatchCreatePartition': {
        const list = partitions.get(name) ?? [];
        partitions.set(name, list);
        if (b['PartitionInputList'].length > 100) return [400, { __type: 'InvalidInputException', Message: 'at most 100 partitions' }];
        const errors: Json[] = [];
        for (const p of b['PartitionInputList']) {
          if (list.some((q) => q['Values'].join('/') === p['Values'].join('/'))) {
            errors.push({ PartitionValues: p['Values'], ErrorDetail: { ErrorCode: 'AlreadyExistsException', ErrorMessage: 'exists' } });
          } else list.push(p);
        }
        return [200, { Errors: errors }];
      }
      case 'BatchGetPartition': {
        const list = partitions.get(name) ?? [];
        const wanted = new Set(b['PartitionsToGet'].map((p: Json) => p['Values'].join('/')));
        return [200, { Partitions: list.filter((p) => wanted.has(p['Values'].join('/'))).map((p) => ({ ...p, TableName: name })), UnprocessedKeys: [] }];
      }
      case 'UpdatePartition': {
        const list = partitions.get(name) ?? [];
        const i = list.findIndex((p) => p['Values'].join('/') === b['PartitionValueList'].join('/'));
        if (i < 0) return [400, { __type: 'EntityNotFoundException', Message: 'partition not found' }];
        list[i] = b['PartitionInput'];
        return [200, {}];
      }
      case 'BatchUpdatePartition': {
        const list = partitions.get(name) ?? [];
        if (b['Entries'].length > 100) return [400, { __type: 'InvalidInputException', Message: 'at most 100 entries' }];
        const errors: Json[] = [];
        for (const e of b['Entries']) {
          const i = list.findIndex((p) => p['Values'].join('/') === e['PartitionValueList'].join('/'));
          if (i < 0) errors.push({ PartitionValueList: e['PartitionValueList'], ErrorDetail: { ErrorCode: 'EntityNotFoundException', ErrorMessage: 'partition not found' } });
          else list[i] = e['PartitionInput'];
        }
        return [200, { Errors: errors }];
      }
      case 'GetPartitions':
        return [200, { Partitions: partitions.get(name) ?? [] }];
      default:
        return [400, { __type: 'InvalidInputException', Message: `fake does not implement ${op}` }];
    }
  };

  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').replace('AWSGlue.', '');
      const parsed = JSON.parse(body || '{}') as Json;
      calls.push({ op, body: parsed });
      const [status, out] = handle(op, parsed);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new GlueClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    client, calls, tables, partitions, failNext, throttle, endpoint,
    close: () => new Promise<void>((r) => { client.destroy(); server.close(() => r()); }),
  };
}
