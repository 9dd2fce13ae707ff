// Feedback items: one validator behind the server's body parser and the client's file reader.
import { describe, expect, it } from 'vitest';
import type { MaasError } from '../../src/core/errors.js';
import { thrown } from '../support/assert.js';
import { MAX_FEEDBACK_BATCH, feedbackBody, feedbackItem, parseFeedbackBody, parseFeedbackRows } from '../../src/protocol/feedback.js';

const fails = (fn: () => unknown): MaasError => thrown(fn);

describe('feedback bodies', () => {
  it('takes one item or a batch', () => {
    expect(parseFeedbackBody({ id: 'a', label: 'walking' })).toEqual([{ id: 'a', label: 'walking' }]);
    expect(
      parseFeedbackBody({
        feedback: [
          { id: 'a:0', value: 1.5 },
          { id: 'a:1', value: -2 },
        ],
      }),
    ).toEqual([
      { id: 'a:0', value: 1.5 },
      { id: 'a:1', value: -2 },
    ]);
  });

  it('refuses other shapes, empty and oversized batches, and a repeated id', () => {
    expect(fails(() => parseFeedbackBody([{ id: 'a', label: 'x' }])).message).toContain('must be a JSON object');
    expect(fails(() => parseFeedbackBody({ feedback: [] })).message).toContain('non-empty array');
    const many = Array.from({ length: MAX_FEEDBACK_BATCH + 1 }, (_, i) => ({ id: `r:${i}`, value: 1 }));
    expect(fails(() => parseFeedbackBody({ feedback: many })).message).toContain(`at most ${MAX_FEEDBACK_BATCH}`);
    const twice = fails(() =>
      parseFeedbackBody({
        feedback: [
          { id: 'a', label: 'x' },
          { id: 'a', label: 'y' },
        ],
      }),
    );
    expect(twice.code).toBe('VALIDATION');
    expect(twice.message).toBe('id "a" appears more than once in the batch; send one feedback per prediction');
  });

  it("runs the caller's check on every item with its place", () => {
    const seen: string[] = [];
    parseFeedbackBody(
      {
        feedback: [
          { id: 'a', label: 'x' },
          { id: 'b', value: 2 },
        ],
      },
      (item, where) => seen.push(`${where}=${item.id}`),
    );
    expect(seen).toEqual(['feedback[0]=a', 'feedback[1]=b']);
  });

  it('is what the client sends: one item bare, several as a batch', () => {
    expect(feedbackBody([{ id: 'a', label: 'x' }])).toEqual({ id: 'a', label: 'x' });
    expect(
      feedbackBody([
        { id: 'a', label: 'x' },
        { id: 'b', label: 'y' },
      ]),
    ).toEqual({
      feedback: [
        { id: 'a', label: 'x' },
        { id: 'b', label: 'y' },
      ],
    });
  });
});

describe('feedback files', () => {
  it('reads CSV with id and label or value, ignoring other columns', () => {
    expect(parseFeedbackRows('id,label,note\nr:0,walking,"a, b"\nr:1,007,\n')).toEqual([
      { id: 'r:0', label: 'walking' },
      { id: 'r:1', label: '007' },
    ]);
    expect(parseFeedbackRows('\ufeffid,value\r\nr:0, 2.5 \r\nr:1,-1\r\n', 'csv')).toEqual([
      { id: 'r:0', value: 2.5 },
      { id: 'r:1', value: -1 },
    ]);
    // Both columns, one filled per row.
    expect(parseFeedbackRows('id,label,value\na,x,\nb,,3\n')).toEqual([
      { id: 'a', label: 'x' },
      { id: 'b', value: 3 },
    ]);
  });

  it('reads a JSON array, a body-shaped object and NDJSON', () => {
    expect(parseFeedbackRows('[{"id":"a","label":"x"},{"id":7,"label":3}]')).toEqual([
      { id: 'a', label: 'x' },
      { id: '7', label: '3' },
    ]);
    expect(parseFeedbackRows('{"feedback":[{"id":"a","value":1}]}')).toEqual([{ id: 'a', value: 1 }]);
    expect(parseFeedbackRows('{"id":"a","value":1}\n\n{"id":"b","value":2}\n')).toEqual([
      { id: 'a', value: 1 },
      { id: 'b', value: 2 },
    ]);
  });

  it('refuses empty files, CSV without the columns, malformed JSON and repeated ids', () => {
    expect(fails(() => parseFeedbackRows(' \n')).message).toBe('the feedback file is empty');
    expect(fails(() => parseFeedbackRows('id\n')).message).toContain('needs columns "id" and "label" or "value"');
    expect(fails(() => parseFeedbackRows('id,label\n')).message).toBe('the feedback file has no rows');
    expect(fails(() => parseFeedbackRows('[{"id":')).message).toContain('not valid JSON');
    expect(fails(() => parseFeedbackRows('{"id":"a","value":1}\n{oops}\n', 'ndjson')).message).toContain('line 2');
    expect(fails(() => parseFeedbackRows('id,label\na,x\na,y\n')).message).toBe('id "a" appears more than once in the batch; send one feedback per prediction');
    expect(fails(() => parseFeedbackRows('id,label\na,x\nb,y,z\n')).message).toBe('the feedback CSV line 3 has 3 cells, the header has 2');
  });
});

describe('one item validator for bodies and files', () => {
  // The same bad item as a request body and as a file row (CSV or JSON): the same words.
  const cases: { body: unknown; csv?: string; json: string; says: string }[] = [
    { body: { id: 'a' }, csv: 'id,label\na,\n', json: '[{"id":"a"}]', says: '"label" (classification) or "value" (regression) is required' },
    { body: { label: 'x' }, csv: 'id,label\n,x\n', json: '[{"label":"x"}]', says: '"id" is required (the prediction id from the infer response)' },
    {
      body: { id: 'a', label: 'x', value: 1 },
      csv: 'id,label,value\na,x,1\n',
      json: '[{"id":"a","label":"x","value":1}]',
      says: 'give "label" or "value", not both',
    },
    {
      body: { id: 'a', value: 'abc' },
      csv: 'id,value\na,abc\n',
      json: '[{"id":"a","value":"abc"}]',
      says: '"value" must be a finite number (the true value), not "abc"',
    },
    { body: { id: 'a', label: ['x'] }, json: '[{"id":"a","label":["x"]}]', says: '"label" must be a non-empty string (the true class)' },
    { body: { id: 'x'.repeat(300), label: 'x' }, json: JSON.stringify([{ id: 'x'.repeat(300), label: 'x' }]), says: '"id" is longer than 256 characters' },
  ];

  it.each(cases)('$says', ({ body, csv, json, says }) => {
    const fromBody = fails(() => parseFeedbackBody(body));
    expect(fromBody.message).toContain(`feedback: ${says}`);
    expect(fails(() => parseFeedbackBody({ feedback: [{ id: 'ok', label: 'y' }, body] })).message).toContain(`feedback[1]: ${says}`);
    expect(fails(() => parseFeedbackRows(json)).message).toContain(`feedback row 1: ${says}`);
    if (csv) expect(fails(() => parseFeedbackRows(csv)).message).toContain(`feedback row 1: ${says}`);
    expect(fromBody.code).toBe('VALIDATION');
  });

  it('names a non-object item', () => {
    expect(fails(() => feedbackItem(3, 'feedback[0]')).message).toBe(
      'feedback[0] must be an object with "id" and "label" (classification) or "value" (regression)',
    );
    expect(fails(() => parseFeedbackRows('[3]')).message).toBe(
      'feedback row 1 must be an object with "id" and "label" (classification) or "value" (regression)',
    );
  });
});
