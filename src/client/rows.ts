export { parseInputText, rowsToRequest, type Row, type ParsedInput } from '../protocol/rows.js';
