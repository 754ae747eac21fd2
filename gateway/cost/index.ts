// Static cost estimation (IBM GraphQL Cost Directives spec, as Apollo Router's demand
// control applies it; DESIGN.md "Reference facts"). Build a CostModel once per
// supergraph with buildCostModel, then call estimateCost for each operation: it walks the
// parsed document once and keeps nothing between calls.
export { buildCostModel, CostModelError, type CostModel, type CostModelOptions } from './model.js';
export {
  estimateCost,
  CostEstimationError,
  type CostEstimate,
  type CostProblem,
  type EstimateCostOptions,
} from './estimate.js';
