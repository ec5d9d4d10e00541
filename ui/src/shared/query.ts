// Data fetching for both front ends: one TanStack Query client per app, with the defaults they
// share. A query's error is always an AppError ({code, message}); views show its message and
// branch on its code.

import { QueryClient } from "@tanstack/react-query";
import type { AppError } from "./error";
import { toAppError } from "./error";

declare module "@tanstack/react-query" {
  interface Register {
    defaultError: AppError;
  }
}

/** Errors worth asking again: the server or the app could not be reached. Any other code is an
 *  answer (not found, forbidden, invalid) that a retry would only repeat, later. */
export function retryable(failures: number, error: unknown): boolean {
  return failures < 2 && toAppError(error).code === "network";
}

export function queryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      // Reads refresh when a view asks (intervals, invalidation), not on every window focus.
      queries: { retry: retryable, refetchOnWindowFocus: false },
      mutations: { retry: false },
    },
  });
}
