import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModelDescription } from '../../src/spec/schema.js';
import { compileModel } from '../../src/serving/dataplane/model.js';
import { detectFormat, parseReferenceData } from '../../src/serving/reference/parse-ref.js';
import { createReferenceFetcher } from '../../src/serving/reference/fetch-ref.js';
import { hostAllowed, referencePolicy } from '../../src/serving/reference/policy.js';
import { ServingError } from '../../src/serving/errors.js';
import { tempDir } from '../support/cli.js';
import { thrown } from '../support/assert.js';

const description: ModelDescription = {
  apiVersion: 'maas.dev/v1',
  kind: 'Model',
  metadata: { name: 'toy', version: '1' },
  spec: {
    task: 'classification',
    algorithm: 'MLP',
    artifact: { uri: 'file://./m.onnx', format: 'onnx' },
    features: [
      { name: 'x', type: 'number', range: { min: 0, max: 100 } },
      { name: 'color', type: 'category', values: ['red', 'green'] },
      { name: 'flag', type: 'boolean' },
    ],
    outputs: { labels: ['a', 'b'], name: 'kind' },
    training: { data: { uri: 'file://./t.csv', target: 'target' } },
  },
};
const model = compileModel(description);

async function rejects(p: Promise<unknown>): Promise<ServingError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ServingError) return e;
    throw e;
  }
  throw new Error('expected a ServingError');
}

const fails = (fn: () => unknown): ServingError => thrown(fn, ServingError);

describe('reference data', () => {
  const data = (text: string, path = '/d', contentType?: string) => ({ text, path, ...(contentType ? { contentType } : {}) });

  it('tells the format by request, content type, extension, then content', () => {
    expect(detectFormat(data('x', '/d.json'), 'csv')).toBe('csv');
    expect(detectFormat(data('x', '/d', 'text/csv; charset=utf-8'), undefined)).toBe('csv');
    expect(detectFormat(data('x', '/d.jsonl'), undefined)).toBe('ndjson');
    expect(detectFormat(data('[{}]'), undefined)).toBe('json');
    expect(detectFormat(data('{"a":1}\n{"a":2}\n'), undefined)).toBe('ndjson');
    expect(detectFormat(data('{"inputs":[]}'), undefined)).toBe('json');
    expect(detectFormat(data('x,color'), undefined)).toBe('csv');
  });

  it('parses CSV with a header in any column order, ignoring the target column', () => {
    const rows = parseReferenceData(model, data('color,target,flag,x\nred,a,true,1\ngreen,b,0,2.5\n', '/d.csv'), undefined);
    expect(rows.rows).toBe(2);
    expect(Array.from(rows.values)).toEqual([1, 0, 1, 2.5, 1, 0]);
    // The shared reader: BOM, CRLF, a quoted target with a comma and a line break.
    const quoted = parseReferenceData(model, data('\ufeffx,color,flag,target\r\n1,green,false,"a,\r\nb"\r\n', '/d.csv'), undefined);
    expect(Array.from(quoted.values)).toEqual([1, 1, 0]);
  });

  it('names the row and column of a bad CSV cell, and unknown or missing columns', () => {
    // Out-of-range values are served (and counted) unless the model rejects them.
    expect(parseReferenceData(model, data('x,color,flag\n1,red,true\n200,red,true\n', '/d.csv'), undefined).rows).toBe(2);
    const rejecting = compileModel({ ...description, spec: { ...description.spec, monitoring: { ranges: 'reject' } } });
    expect(fails(() => parseReferenceData(rejecting, data('x,color,flag\n1,red,true\n200,red,true\n', '/d.csv'), undefined)).message).toBe(
      'data_ref row 2 column "x": 200 is above the maximum 100',
    );
    expect(fails(() => parseReferenceData(model, data('x,color,flag\n1,purple,true\n', '/d.csv'), undefined)).message).toContain('unknown category "purple"');
    expect(fails(() => parseReferenceData(model, data('x,color,flag,extra\n1,red,true,9\n', '/d.csv'), undefined)).message).toContain('unknown column "extra"');
    expect(fails(() => parseReferenceData(model, data('x,flag\n1,true\n', '/d.csv'), undefined)).message).toContain('missing column "color"');
    expect(fails(() => parseReferenceData(model, data('x,color,flag\n1,red\n', '/d.csv'), undefined)).message).toBe(
      'data_ref CSV line 2 has 2 cells, the header has 3',
    );
    expect(fails(() => parseReferenceData(model, data('x,color,flag\n"1\n', '/d.csv'), undefined)).message).toContain('data_ref CSV: Quote Not Closed');
  });

  it('parses JSON rows as objects or arrays, an OIP body with inputs, and NDJSON', () => {
    const objects = parseReferenceData(model, data('[{"x":1,"color":"green","flag":false,"kind":"a"}]'), undefined);
    expect(Array.from(objects.values)).toEqual([1, 1, 0]);
    const arrays = parseReferenceData(model, data('[[1,"red",true],[2,"green",false]]'), undefined);
    expect(arrays.rows).toBe(2);
    const oip = parseReferenceData(
      model,
      data(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 3], datatype: 'BYTES', data: [4, 'red', true] }] })),
      'json',
    );
    expect(Array.from(oip.values)).toEqual([4, 0, 1]);
    const nd = parseReferenceData(model, data('{"x":1,"color":"red","flag":true}\n\n{"x":3,"color":"green","flag":false}\n'), 'ndjson');
    expect(Array.from(nd.values)).toEqual([1, 0, 1, 3, 1, 0]);
    expect(fails(() => parseReferenceData(model, data('{"x":1,"color":"red","flag":true}\n{oops}\n'), 'ndjson')).message).toContain('line 2');
    expect(fails(() => parseReferenceData(model, data('[]'), 'json')).message).toContain('no rows');
  });
});

describe('reference fetching', () => {
  const dir = tempDir();
  const root = join(dir.path, 'root');
  let server: http.Server;
  let base = '';

  beforeAll(async () => {
    mkdirSync(root);
    writeFileSync(join(root, 'ok.csv'), 'x,color,flag\n1,red,true\n');
    writeFileSync(join(root, 'big.csv'), 'x,color,flag\n' + '1,red,true\n'.repeat(1000));
    writeFileSync(join(dir.path, 'secret.csv'), 'x\n1\n');
    symlinkSync(join(dir.path, 'secret.csv'), join(root, 'link.csv'));
    server = http.createServer((req, res) => {
      if (req.url === '/rows.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('[{"x":1,"color":"red","flag":true}]');
      } else if (req.url === '/big') {
        // No content-length: the limit must hold while streaming.
        res.writeHead(200, { 'content-type': 'text/csv' });
        for (let i = 0; i < 100; i++) res.write('1,red,true\n'.repeat(100));
        res.end();
      } else if (req.url === '/moved') {
        res.writeHead(302, { location: '/rows.json' });
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    dir.cleanup();
  });

  const fetcher = (extra: Parameters<typeof referencePolicy>[0] = {}) => createReferenceFetcher(referencePolicy({ fileRoot: root, maxBytes: 1000, ...extra }));

  it('reads files under the root', async () => {
    const got = await fetcher()(pathToFileURL(join(root, 'ok.csv')).href);
    expect(got.text).toBe('x,color,flag\n1,red,true\n');
  });

  it('refuses files outside the root, also through symlinks, and missing files', async () => {
    expect((await rejects(fetcher()(pathToFileURL(join(dir.path, 'secret.csv')).href))).message).toContain('outside the directory');
    expect((await rejects(fetcher()(pathToFileURL(join(root, 'link.csv')).href))).message).toContain('outside the directory');
    expect((await rejects(fetcher()(pathToFileURL(join(root, 'none.csv')).href))).message).toContain('no such file');
  });

  it('refuses files and HTTP bodies over the size limit with 413', async () => {
    expect((await rejects(fetcher()(pathToFileURL(join(root, 'big.csv')).href))).status).toBe(413);
    expect((await rejects(fetcher()(`${base}/big`))).status).toBe(413);
  });

  it('fetches over HTTP with the content type, and reports HTTP errors and redirects', async () => {
    const got = await fetcher()(`${base}/rows.json`);
    expect(got.contentType).toBe('application/json');
    expect(got.text).toContain('"red"');
    expect((await rejects(fetcher()(`${base}/missing`))).message).toContain('answered HTTP 404');
    expect((await rejects(fetcher()(`${base}/moved`))).message).toContain('redirects are not followed');
  });

  it('refuses schemes and hosts outside the allow-list', async () => {
    expect((await rejects(fetcher()('ftp://example.com/x.csv'))).message).toContain('scheme "ftp" is not allowed');
    expect((await rejects(fetcher({ schemes: ['file'] })(`${base}/rows.json`))).message).toContain('scheme "http" is not allowed');
    expect((await rejects(fetcher({ hosts: ['data.example.com'] })(`${base}/rows.json`))).message).toContain('host "127.0.0.1');
    expect((await fetcher({ hosts: ['127.0.0.1'] })(`${base}/rows.json`)).text).toContain('red');
    expect((await rejects(fetcher()('not a uri'))).message).toContain('not a valid URI');
  });

  it('matches hosts by name, name:port and *.domain', () => {
    const p = referencePolicy({ hosts: ['a.com', 'b.com:8080', '*.c.org'] });
    expect(hostAllowed(p, new URL('http://a.com:99/x'))).toBe(true);
    expect(hostAllowed(p, new URL('http://b.com:8080/x'))).toBe(true);
    expect(hostAllowed(p, new URL('http://b.com/x'))).toBe(false);
    expect(hostAllowed(p, new URL('https://data.c.org/x'))).toBe(true);
    expect(hostAllowed(p, new URL('https://c.org.evil.com/x'))).toBe(false);
  });
});
