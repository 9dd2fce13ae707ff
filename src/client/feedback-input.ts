export { parseFeedbackRows as parseFeedback } from '../protocol/feedback.js';
