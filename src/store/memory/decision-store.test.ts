// Runs the DecisionStore contract against the in-memory adapter.
import { runDecisionStoreContract } from "../decision-store.contract.js";
import { createMemoryDecisionStore } from "./decision-store.js";

runDecisionStoreContract("memory", (config) => createMemoryDecisionStore(config));
