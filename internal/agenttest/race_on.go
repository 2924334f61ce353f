//go:build race

package agenttest

// Race says the tests run with -race; Binary builds the agent with it too.
const Race = true
