import type { z } from 'zod';
import { AppError } from './errors.ts';
import { isRouteName, routes, type ParsedInput, type RouteName } from './routes.ts';

/** "albumId: expected number, received string": the field's path, then zod's reason. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => {
      const field = issue.path.map(String).join('.');
      return field ? `${field}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** The route's input, checked against its schema; INVALID_INPUT naming the field otherwise. */
export function parseInput<R extends RouteName>(route: R, input: unknown): ParsedInput<R> {
  const result = routes[route].input.safeParse(input ?? {});
  if (!result.success)
    throw new AppError('INVALID_INPUT', `${route}: ${describeIssues(result.error.issues)}`);
  return result.data as ParsedInput<R>;
}

/** A route name from outside (an URL, an IPC message), or NOT_FOUND. */
export function routeName(value: string): RouteName {
  if (!isRouteName(value)) throw new AppError('NOT_FOUND', `no such route: ${value.slice(0, 100)}`);
  return value;
}
