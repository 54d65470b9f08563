// Global test setup: nothing yet beyond ts-node; mocks are set per run by tools/plan/runtime.ts.
