// Package notify carries out Klaxon's page intents: the worker side of the
// outbox that the triage state machine keeps.
//
// Apply decides a page by adding a triage.Intent to the state. A Dispatcher
// takes the due intents from the applied state (Source), delivers each one
// through Alertmanager's own receiver integrations (webhook, email, Slack,
// PagerDuty, Opsgenie, … configured exactly as in alertmanager.yml), and
// reports every attempt as a triage.Delivery to the Recorder, which
// journals it; applying that entry settles the intent or schedules its
// retry. A page is one synthetic alert whose group key is the intent ID, so
// receivers can deduplicate a page sent again after a crash: the webhook
// payload's groupKey is the ID, PagerDuty's dedup_key is its hash, and
// {{ .GroupLabels.intent }} is the ID in any template, a templated webhook
// URL included.
//
// Every receiver has its own bounded queue and workers, and every attempt
// its own timeout, so a receiver that hangs or fails delays only its own
// pages. An intent taken stays in flight until its delivery is journaled and
// the state no longer lists that attempt: a report that the store refuses
// is made again, never the page. A delivered page whose report a stopping
// dispatcher could not store (leadership lost, receivers reloaded) is kept
// in Options.Unreported, and the next dispatcher stores that report rather
// than page anyone again; only a crash, or another node taking over, sends
// such a page a second time, under the same key. Drain stops a dispatcher
// gently, once the pages under way are delivered and reported, as when
// its receivers are replaced.
//
// A minimal wiring, with the engine as Source (its triage state) and as
// Recorder:
//
//	signer, err := acklink.NewSigner(ackKey) // from configuration, never logged
//	...
//	d, err := notify.New(engine.State(), engine, notify.Options{
//		Receivers:   receivers, // map[string]*config.Receiver from the on-call files
//		ExternalURL: externalURL,
//		AckSigner:   signer,
//		Registerer:  prometheus.DefaultRegisterer,
//		Logger:      log,
//	})
//	...
//	go d.Run(ctx)
//	// after applying entries:
//	d.Wake()
package notify
