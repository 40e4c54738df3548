// Package e2e holds Klaxon's end-to-end tests: they run the klaxon binary
// next to the real Prometheus and Alertmanager, on loopback ports, and check
// what an operator would see through the HTTP API, across crashes and restarts.
package e2e
