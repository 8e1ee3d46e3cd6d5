// One line per feature area; each area's index.ts re-exports its public constructs.
