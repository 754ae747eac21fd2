// The CLI folder's door for code that runs a command's work without the command line
// (tests): `graft` itself starts at main.ts.
export { checkProposal, type CheckCommandOptions, type CheckOutcome } from './check.js';
