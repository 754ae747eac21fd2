// Cost limits at the edge (@cost / @listSize, IBM cost spec as Apollo Router applies it):
// the estimate of the operation that will execute (after authorization filtering) must
// stay under the per-operation maximum, and each extension's share under its manifest's
// limits.maxCost. Over a limit the operation is refused with Apollo Router's code.
import { GraphQLError } from 'graphql';
import { CostEstimationError, buildCostModel, estimateCost } from '../cost/index.js';
import { GraftErrorCode } from '../errors/index.js';
import type { OperationCheckFactory } from './edge.js';

export interface CostCheckOptions {
  maxCost: number;
  defaultListSize: number;
  /** The current limits.maxCost of an extension (it can change with each publish). */
  extensionMaxCost: (extension: string) => number | undefined;
}

export function costCheck(options: CostCheckOptions): OperationCheckFactory {
  return (supergraph) => {
    const model = buildCostModel(supergraph.sdl, { defaultListSize: options.defaultListSize });
    return ({ document, operationName, variables, facts }) => {
      let estimate;
      try {
        estimate = estimateCost(model, document, { operationName, variables });
      } catch (error) {
        if (error instanceof CostEstimationError) {
          return [new GraphQLError(`The cost of this operation cannot be estimated: ${error.message}`, { extensions: { code: GraftErrorCode.BAD_REQUEST } })];
        }
        throw error;
      }
      if (facts) facts.estimatedCost = estimate.total;
      const problem = estimate.problems[0];
      if (problem) {
        return [new GraphQLError(problem.message, { extensions: { code: GraftErrorCode.SLICING_ARGUMENT_REQUIRED, coordinate: problem.coordinate } })];
      }
      if (estimate.total > options.maxCost) {
        return [
          new GraphQLError(
            `The estimated cost of this operation is ${estimate.total}, above the limit of ${options.maxCost}. Ask for fewer items (smaller "first" arguments) or fewer nested lists.`,
            { extensions: { code: GraftErrorCode.COST_ESTIMATED_TOO_EXPENSIVE, estimatedCost: estimate.total, maxCost: options.maxCost } },
          ),
        ];
      }
      const errors: GraphQLError[] = [];
      for (const [extension, cost] of Object.entries(estimate.bySubgraph)) {
        const limit = options.extensionMaxCost(extension);
        if (limit !== undefined && cost > limit) {
          errors.push(
            new GraphQLError(
              `The part of this operation served by extension "${extension}" is estimated at ${cost}, above its limit of ${limit}. Ask for fewer of its items.`,
              { extensions: { code: GraftErrorCode.COST_ESTIMATED_TOO_EXPENSIVE, extension, estimatedCost: cost, maxCost: limit } },
            ),
          );
        }
      }
      return errors;
    };
  };
}
