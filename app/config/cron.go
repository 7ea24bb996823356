package config

import "github.com/robfig/cron/v3"

// CronParser is the one parser for job specs: five fields with optional
// seconds, or descriptors such as "@every 5s" and "@daily".
var CronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCronSpec checks a job spec.
func ParseCronSpec(spec string) (cron.Schedule, error) { return CronParser.Parse(spec) }
