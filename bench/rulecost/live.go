package main

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
)

// live writes the fleet's samples after its backfilled history into a
// running Prometheus, through its remote-write receiver: first the gap
// between the history's end and now, then a sample of every series each
// scrape interval, as a scrape would. Rules then read windows that end
// now, as they do in production.
type live struct {
	f      fleet
	client remote.WriteClient
	fams   []family
	next   time.Time
}

func newLive(f fleet, base string) (*live, error) {
	u, err := url.Parse(base + "/api/v1/write")
	if err != nil {
		return nil, err
	}
	c, err := remote.NewWriteClient("rulecost", &remote.ClientConfig{
		URL: &config_util.URL{URL: u}, Timeout: model.Duration(time.Minute), WriteProtoMsg: remoteapi.WriteV1MessageType,
	})
	if err != nil {
		return nil, err
	}
	return &live{f: f, client: c, fams: f.families(), next: f.end.Add(f.scrape)}, nil
}

// catchUp writes every sample due up to now.
func (l *live) catchUp(ctx context.Context) error {
	for now := time.Now(); !l.next.After(now); l.next = l.next.Add(l.f.scrape) {
		if err := l.write(ctx, l.next); err != nil {
			return err
		}
	}
	return nil
}

// run writes samples as they fall due until ctx ends; the first error
// ends it too.
func (l *live) run(ctx context.Context) error {
	for {
		if err := l.catchUp(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(l.next)):
		}
	}
}

func (l *live) write(ctx context.Context, at time.Time) error {
	t := at.Sub(l.f.origin()).Seconds()
	var req prompb.WriteRequest
	for _, fam := range l.fams {
		for _, m := range fam.metrics {
			ts := prompb.TimeSeries{Samples: []prompb.Sample{{Value: m.value(t), Timestamp: at.UnixMilli()}}}
			m.labels.Range(func(lb labels.Label) { ts.Labels = append(ts.Labels, prompb.Label{Name: lb.Name, Value: lb.Value}) })
			req.Timeseries = append(req.Timeseries, ts)
		}
	}
	b, err := req.Marshal()
	if err != nil {
		return err
	}
	if _, err := l.client.Store(ctx, snappy.Encode(nil, b), 0); err != nil {
		return fmt.Errorf("remote write of the samples at %s: %w", at.UTC().Format(time.RFC3339), err)
	}
	return nil
}
