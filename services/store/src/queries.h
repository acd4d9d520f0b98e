// Every SQL statement the store runs, as a named constant. Each is prepared on
// every pooled connection (lazily, by libpqxx) and run by name. Timestamps are
// read as microseconds since the epoch (hilnas_epoch_us) and lease durations
// are passed in milliseconds.
#pragma once

namespace hilnas::store::sql {

struct Query {
    const char* name;
    const char* text;
};

// ---- Sessions ----

inline constexpr Query kSetStatementTimeout{"set_statement_timeout",
                                            "SELECT set_config('statement_timeout', $1, true)"};

// ---- Jobs ----

inline constexpr Query kInsertJob{"insert_job", R"sql(
INSERT INTO jobs (name, owner, request_id, spec, dataset, board_type, objectives, measure,
                  max_attempts, state_reason)
VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7::text[], $8::boolean, $9::integer, 'submitted')
ON CONFLICT (owner, request_id) DO NOTHING
RETURNING id)sql"};

inline constexpr Query kFindJobByRequest{"find_job_by_request", R"sql(
SELECT id, spec = $3::jsonb AS same_spec FROM jobs WHERE owner = $1 AND request_id = $2)sql"};

inline constexpr Query kLoadJobs{"load_jobs", R"sql(
SELECT j.id, j.owner, j.spec::text AS spec, j.state, j.error,
       hilnas_epoch_us(j.created_at) AS created_us, hilnas_epoch_us(j.started_at) AS started_us,
       hilnas_epoch_us(j.finished_at) AS finished_us, coalesce(h.hypervolume, 0) AS hypervolume,
       coalesce(h.front_size, 0) AS front_size
FROM jobs j
LEFT JOIN LATERAL (SELECT hypervolume, front_size FROM job_hypervolume
                   WHERE job_id = j.id ORDER BY completed_trials DESC LIMIT 1) h ON true
WHERE j.id = ANY ($1::uuid[]))sql"};

inline constexpr Query kLoadTrialCounts{"load_trial_counts", R"sql(
SELECT job_id, state, count(*) AS n FROM trials WHERE job_id = ANY ($1::uuid[]) GROUP BY 1, 2)sql"};

// $3/$4: the last row of the previous page (NULL for the first page).
inline constexpr Query kListJobIds{"list_job_ids", R"sql(
SELECT id, hilnas_epoch_us(created_at) AS created_us FROM jobs
WHERE ($1 = '' OR state = $1) AND ($2 = '' OR owner = $2)
  AND ($3::bigint IS NULL OR (created_at, id) < (hilnas_from_epoch_us($3::bigint), $4::uuid))
ORDER BY created_at DESC, id DESC
LIMIT $5)sql"};

inline constexpr Query kLockJob{"lock_job", R"sql(
SELECT state FROM jobs WHERE id = $1 FOR NO KEY UPDATE)sql"};

inline constexpr Query kSetJobState{"set_job_state", R"sql(
UPDATE jobs SET state = $2, state_reason = $3,
                error = CASE WHEN $2 = 'failed' THEN $3 ELSE error END
WHERE id = $1)sql"};

// Every unfinished trial of a job, locked in id order before a job-wide change.
inline constexpr Query kLockJobTrials{"lock_job_trials", R"sql(
SELECT id, lease_id IS NOT NULL AS leased FROM trials
WHERE job_id = $1 AND state IN ('pending', 'training', 'trained', 'measuring')
ORDER BY id
FOR NO KEY UPDATE)sql"};

inline constexpr Query kStaleUnleasedTrials{"stale_unleased_trials", R"sql(
UPDATE trials SET state = 'stale', state_reason = $2
WHERE job_id = $1 AND state IN ('pending', 'trained'))sql"};

// ---- Trials ----

// Takes the job's row lock: trial numbers are handed out in order.
inline constexpr Query kReserveTrialNumbers{"reserve_trial_numbers", R"sql(
UPDATE jobs SET next_trial_number = next_trial_number + $2::integer
WHERE id = $1 AND state IN ('pending', 'running')
  AND ($3::integer IS NULL OR next_trial_number = $3::integer + 1)
RETURNING next_trial_number - $2::integer AS first_number)sql"};

inline constexpr Query kJobStateAndLastNumber{"job_state_and_last_number", R"sql(
SELECT state, next_trial_number - 1 AS last_number FROM jobs WHERE id = $1)sql"};

inline constexpr Query kCountTrialsOfJob{"count_trials_of_job", R"sql(
SELECT count(*) AS n FROM trials WHERE job_id = $1 AND id = ANY ($2::uuid[]))sql"};

inline constexpr Query kInsertTrials{"insert_trials", R"sql(
INSERT INTO trials (job_id, number, candidate, parent_trial_id, state_reason)
SELECT $1, u.number, u.candidate::jsonb, nullif(u.parent, '')::uuid, 'created'
FROM unnest($2::integer[], $3::text[], $4::text[]) AS u (number, candidate, parent)
RETURNING id, number)sql"};

inline constexpr Query kListTrialIds{"list_trial_ids", R"sql(
SELECT id, number FROM trials
WHERE job_id = $1 AND ($2 = '' OR state = $2) AND number > $3::integer
ORDER BY number
LIMIT $4)sql"};

inline constexpr Query kLoadTrials{"load_trials", R"sql(
SELECT t.id, t.job_id, t.number, coalesce(t.parent_trial_id::text, '') AS parent_trial_id,
       t.candidate::text AS candidate, t.state, t.attempts, t.last_error,
       hilnas_epoch_us(t.created_at) AS created_us, hilnas_epoch_us(t.updated_at) AS updated_us,
       CASE WHEN t.state = 'complete'
            THEN EXISTS (SELECT 1 FROM v_pareto_front f
                         WHERE f.job_id = t.job_id AND f.trial_id = t.id)
            ELSE false END AS on_front
FROM trials t
WHERE t.id = ANY ($1::uuid[]))sql"};

inline constexpr Query kLoadMetrics{"load_metrics", R"sql(
SELECT trial_id, name, value, source FROM trial_metrics
WHERE trial_id = ANY ($1::uuid[]) ORDER BY trial_id, name)sql"};

inline constexpr Query kLoadObjectives{"load_objectives", R"sql(
SELECT trial_id, objective, value, source FROM trial_objectives
WHERE trial_id = ANY ($1::uuid[])
ORDER BY trial_id, array_position(hilnas_objective_names(), objective))sql"};

inline constexpr Query kLoadMeasurements{"load_measurements", R"sql(
SELECT trial_id, board_id, board_type, agent_id, cycles, latency_ms, energy_uj, source,
       energy_source, sram_static_bytes, sram_stack_bytes, sram_arena_bytes, sram_bytes,
       flash_text_bytes, flash_rodata_bytes, flash_data_bytes, flash_bytes, outputs_match_host,
       toolchain, firmware_sha256, clock_hz, timing_method, debugger, debugger_version, meter,
       agent_version, warmup_runs, timed_runs, hilnas_epoch_us(measured_at) AS measured_us,
       latency_p10_ms, latency_p90_ms, outputs_checked, runtime_variant, meter_version
FROM measurements WHERE trial_id = ANY ($1::uuid[]) ORDER BY trial_id, id)sql"};

inline constexpr Query kLoadArtifactRefs{"load_artifact_refs", R"sql(
SELECT id, trial_id, kind, sha256, size_bytes FROM artifacts
WHERE trial_id = ANY ($1::uuid[]) ORDER BY trial_id, created_at, id)sql"};

inline constexpr Query kLockTrial{"lock_trial", R"sql(
SELECT state, job_id FROM trials WHERE id = $1 FOR NO KEY UPDATE)sql"};

inline constexpr Query kTrialJob{"trial_job", R"sql(
SELECT job_id FROM trials WHERE id = $1)sql"};

inline constexpr Query kMarkInfeasible{"mark_infeasible", R"sql(
UPDATE trials SET state = 'infeasible', state_reason = $2, last_error = $2 WHERE id = $1)sql"};

// ---- Queues ----

// $1 worker id, $2 the worker's datasets (empty: any), $3 lease in ms, $4..$9
// the worker's capabilities, recorded (with last_seen_at) whether or not a
// trial is claimed. The job test is a scalar subquery, not a join, so that the
// plan is always a walk of trials_pending_queue in order that stops at the
// first free row.
inline constexpr Query kClaimTrial{"claim_trial", R"sql(
WITH worker AS (
    INSERT INTO workers (id, hostname, version, device, device_name, memory_bytes, cpu_threads,
                         datasets)
    VALUES ($1, $4, $5, $6, $7, $8::bigint, $9::integer, $2::text[])
    ON CONFLICT (id) DO UPDATE
    SET hostname = EXCLUDED.hostname, version = EXCLUDED.version, device = EXCLUDED.device,
        device_name = EXCLUDED.device_name, memory_bytes = EXCLUDED.memory_bytes,
        cpu_threads = EXCLUDED.cpu_threads, datasets = EXCLUDED.datasets, last_seen_at = now()),
next AS (
    SELECT t.id
    FROM trials t
    WHERE t.state = 'pending'
      AND (SELECT j.state IN ('pending', 'running')
                  AND (cardinality($2::text[]) = 0 OR j.dataset = ANY ($2::text[]))
           FROM jobs j WHERE j.id = t.job_id)
    ORDER BY t.queued_at, t.id
    LIMIT 1
    FOR NO KEY UPDATE SKIP LOCKED)
UPDATE trials t
SET state = 'training', state_reason = 'leased by ' || $1::text, lease_id = gen_random_uuid(),
    lease_owner = $1::text, leased_at = now(),
    lease_expires_at = now() + $3::bigint * interval '1 millisecond'
FROM next, jobs j
WHERE t.id = next.id AND j.id = t.job_id
RETURNING t.id, t.lease_id, t.attempts + 1 AS attempt,
          hilnas_epoch_us(t.lease_expires_at) AS expires_us, t.job_id, t.number,
          t.candidate::text AS candidate, coalesce(t.parent_trial_id::text, '') AS parent_trial_id,
          j.dataset,
          jsonb_strip_nulls(jsonb_build_object('dataset', j.spec -> 'dataset',
                                               'constraints', j.spec -> 'constraints'))::text
              AS spec_part)sql"};

inline constexpr Query kArtifactRefByKind{"artifact_ref_by_kind", R"sql(
SELECT id, sha256, size_bytes FROM artifacts WHERE trial_id = $1 AND kind = $2)sql"};

inline constexpr Query kTouchAgent{"touch_agent", R"sql(
UPDATE agents SET last_seen_at = now() WHERE id = $1)sql"};

inline constexpr Query kLockBoard{"lock_board", R"sql(
SELECT b.agent_id, b.board_type, b.health, b.active,
       coalesce((SELECT t.lease_id::text FROM trials t WHERE t.lease_board_id = b.id LIMIT 1), '')
           AS busy_lease_id
FROM boards b WHERE b.id = $1
FOR NO KEY UPDATE OF b)sql"};

// $1 agent id, $2 board type, $3 board id, $4 lease in ms. Planned like kClaimTrial.
inline constexpr Query kClaimMeasurement{"claim_measurement", R"sql(
WITH next AS (
    SELECT t.id
    FROM trials t
    WHERE t.state = 'trained'
      AND (SELECT j.state IN ('pending', 'running') AND j.board_type = $2::text
           FROM jobs j WHERE j.id = t.job_id)
    ORDER BY t.queued_at, t.id
    LIMIT 1
    FOR NO KEY UPDATE SKIP LOCKED)
UPDATE trials t
SET state = 'measuring', state_reason = 'measuring on ' || $3::text,
    lease_id = gen_random_uuid(), lease_owner = $1::text, lease_board_id = $3::text,
    leased_at = now(), lease_expires_at = now() + $4::bigint * interval '1 millisecond'
FROM next, jobs j
WHERE t.id = next.id AND j.id = t.job_id
RETURNING t.id, t.lease_id, t.attempts + 1 AS attempt,
          hilnas_epoch_us(t.lease_expires_at) AS expires_us, t.job_id,
          jsonb_strip_nulls(jsonb_build_object('board_type', j.board_type,
                                               'measurement', j.spec -> 'measurement',
                                               'dataset', j.spec -> 'dataset'))::text
              AS spec_part)sql"};

// The job of a current or ended lease.
inline constexpr Query kLeaseJob{"lease_job", R"sql(
SELECT job_id FROM trials WHERE lease_id = $1::uuid
UNION ALL
SELECT t.job_id FROM trial_leases l JOIN trials t ON t.id = l.trial_id WHERE l.lease_id = $1::uuid
LIMIT 1)sql"};

inline constexpr Query kLoadArtifactByKind{"load_artifact_by_kind", R"sql(
SELECT id, trial_id, kind, sha256, size_bytes, data FROM artifacts
WHERE trial_id = $1 AND kind = $2)sql"};

inline constexpr Query kLoadArtifact{"load_artifact", R"sql(
SELECT id, trial_id, kind, sha256, size_bytes, data FROM artifacts WHERE id = $1)sql"};

// The trial holding a lease, locked, with what its transitions depend on.
inline constexpr Query kLockLease{"lock_lease", R"sql(
SELECT t.id, t.job_id, t.lease_owner, t.state AS trial_state, j.state AS job_state, t.attempts,
       j.max_attempts, j.measure, coalesce(t.lease_board_id, '') AS board_id, t.number
FROM trials t
JOIN jobs j ON j.id = t.job_id
WHERE t.lease_id = $1
FOR NO KEY UPDATE OF t)sql"};

inline constexpr Query kEndedLease{"ended_lease", R"sql(
SELECT outcome, holder, reason FROM trial_leases WHERE lease_id = $1)sql"};

inline constexpr Query kExtendLease{"extend_lease", R"sql(
UPDATE trials SET lease_expires_at = now() + $2::bigint * interval '1 millisecond'
WHERE id = $1
RETURNING hilnas_epoch_us(lease_expires_at) AS expires_us)sql"};

// Ends the trial's current lease: records it in trial_leases and moves the
// trial to $4. $1 trial, $2 outcome, $3 reason, $5 attempts to add, $6 whether
// the reason is an error (kept in last_error).
inline constexpr Query kEndLease{"end_lease", R"sql(
WITH ended AS (
    INSERT INTO trial_leases (lease_id, trial_id, kind, holder, board_id, attempt, claimed_at,
                              expires_at, outcome, reason)
    SELECT t.lease_id, t.id, CASE WHEN t.state = 'measuring' THEN 'measure' ELSE 'train' END,
           t.lease_owner, t.lease_board_id, t.attempts + 1, t.leased_at, t.lease_expires_at,
           $2::text, $3::text
    FROM trials t
    WHERE t.id = $1 AND t.lease_id IS NOT NULL
    RETURNING trial_id)
UPDATE trials t
SET state = $4::text, state_reason = $3::text, attempts = t.attempts + $5::integer,
    last_error = CASE WHEN $6::boolean THEN $3::text ELSE t.last_error END,
    lease_id = NULL, lease_owner = NULL, lease_board_id = NULL, leased_at = NULL,
    lease_expires_at = NULL
FROM ended
WHERE t.id = ended.trial_id
RETURNING t.state)sql"};

inline constexpr Query kExpiredLeaseTrials{"expired_lease_trials", R"sql(
SELECT id FROM trials
WHERE lease_id IS NOT NULL AND lease_expires_at < now()
ORDER BY lease_expires_at
LIMIT $1)sql"};

inline constexpr Query kLockExpiredLease{"lock_expired_lease", R"sql(
SELECT t.lease_id, t.state AS trial_state, t.attempts, j.max_attempts, j.state AS job_state,
       t.job_id, t.lease_owner, hilnas_epoch_us(t.lease_expires_at) AS expires_us
FROM trials t
JOIN jobs j ON j.id = t.job_id
WHERE t.id = $1 AND t.lease_id IS NOT NULL AND t.lease_expires_at < now()
FOR NO KEY UPDATE OF t SKIP LOCKED)sql"};

inline constexpr Query kFinishCancellations{"finish_cancellations", R"sql(
UPDATE jobs j SET state = 'cancelled', state_reason = 'every leased trial has stopped'
WHERE j.state = 'cancelling'
  AND NOT EXISTS (SELECT 1 FROM trials t WHERE t.job_id = j.id AND t.lease_id IS NOT NULL)
RETURNING j.id)sql"};

// ---- Results ----

inline constexpr Query kUpsertMetrics{"upsert_metrics", R"sql(
INSERT INTO trial_metrics (trial_id, name, value, source)
SELECT $1, u.name, u.value, u.source
FROM unnest($2::text[], $3::float8[], $4::text[]) AS u (name, value, source)
ON CONFLICT (trial_id, name) DO UPDATE
SET value = EXCLUDED.value, source = EXCLUDED.source, recorded_at = now())sql"};

inline constexpr Query kUpsertObjectives{"upsert_objectives", R"sql(
INSERT INTO trial_objectives (trial_id, objective, value, source)
SELECT $1, u.objective, u.value, u.source
FROM unnest($2::text[], $3::float8[], $4::text[]) AS u (objective, value, source)
ON CONFLICT (trial_id, objective) DO UPDATE
SET value = EXCLUDED.value, source = EXCLUDED.source, recorded_at = now())sql"};

inline constexpr Query kSetFinalModel{"set_final_model", R"sql(
UPDATE trials SET final_model = $2::jsonb WHERE id = $1)sql"};

// $3 is sent in binary; the database computes the digest and the size.
inline constexpr Query kInsertArtifact{"insert_artifact", R"sql(
INSERT INTO artifacts (trial_id, kind, sha256, size_bytes, data)
VALUES ($1, $2, encode(sha256($3::bytea), 'hex'), octet_length($3::bytea), $3::bytea)
RETURNING id, sha256, size_bytes)sql"};

inline constexpr Query kArtifactExists{"artifact_exists", R"sql(
SELECT 1 FROM artifacts WHERE trial_id = $1 AND kind = $2)sql"};

inline constexpr Query kInsertMeasurement{"insert_measurement", R"sql(
INSERT INTO measurements (
    trial_id, board_id, board_type, agent_id, cycles, latency_ms, energy_uj, source,
    energy_source, sram_static_bytes, sram_stack_bytes, sram_arena_bytes, sram_bytes,
    flash_text_bytes, flash_rodata_bytes, flash_data_bytes, flash_bytes, outputs_match_host,
    toolchain, firmware_sha256, clock_hz, timing_method, debugger, debugger_version, meter,
    agent_version, warmup_runs, timed_runs, measured_at, latency_p10_ms, latency_p90_ms,
    outputs_checked, runtime_variant, meter_version)
VALUES ($1, $2, $3, $4, $5::bigint, $6::float8, $7::float8, $8, $9, $10::bigint, $11::bigint,
        $12::bigint, $13::bigint, $14::bigint, $15::bigint, $16::bigint, $17::bigint,
        $18::boolean, $19, $20, $21::bigint, $22, $23, $24, $25, $26, $27::integer,
        $28::integer, coalesce(hilnas_from_epoch_us($29::bigint), now()), $30::float8,
        $31::float8, $32::integer, $33, $34))sql"};

inline constexpr Query kBoardMeasured{"board_measured", R"sql(
UPDATE boards SET consecutive_failures = 0, last_seen_at = now() WHERE id = $1)sql"};

// $2: faults in a row after which a GOOD or UNKNOWN board becomes BAD.
inline constexpr Query kBoardFault{"board_fault", R"sql(
UPDATE boards
SET consecutive_failures = consecutive_failures + 1,
    health = CASE WHEN consecutive_failures + 1 >= $2::integer AND health IN ('good', 'unknown')
                  THEN 'bad' ELSE health END,
    health_reason = CASE WHEN consecutive_failures + 1 >= $2::integer
                              AND health IN ('good', 'unknown')
                         THEN $3::text ELSE health_reason END,
    health_changed_at = CASE WHEN consecutive_failures + 1 >= $2::integer
                                  AND health IN ('good', 'unknown')
                             THEN now() ELSE health_changed_at END,
    last_seen_at = now()
WHERE id = $1
RETURNING health)sql"};

inline constexpr Query kParetoFront{"pareto_front", R"sql(
SELECT trial_id, number, error, flash_bytes, sram_bytes, latency_ms, energy_uj, macs,
       model_size_bytes
FROM v_pareto_front WHERE job_id = $1)sql"};

inline constexpr Query kJobObjectives{"job_objectives", R"sql(
SELECT array_to_string(objectives, ',') AS objectives FROM jobs WHERE id = $1)sql"};

inline constexpr Query kLatestHypervolume{"latest_hypervolume", R"sql(
SELECT hypervolume, array_to_string(reference_point, ',') AS reference_point FROM job_hypervolume
WHERE job_id = $1 ORDER BY completed_trials DESC LIMIT 1)sql"};

inline constexpr Query kUpsertHypervolume{"upsert_hypervolume", R"sql(
INSERT INTO job_hypervolume (job_id, completed_trials, trial_id, hypervolume, front_size,
                             reference_point)
VALUES ($1, $2::integer, $3::uuid, $4::float8, $5::integer, $6::float8[])
ON CONFLICT (job_id, completed_trials) DO UPDATE
SET trial_id = EXCLUDED.trial_id, hypervolume = EXCLUDED.hypervolume,
    front_size = EXCLUDED.front_size, reference_point = EXCLUDED.reference_point,
    recorded_at = now())sql"};

// ---- The scheduler ----

// The watermark of a scheduler pass: every transaction below it has ended.
// Taken before the pass reads anything (see sql/0005_scheduler_changes.sql).
inline constexpr Query kChangeWatermark{"change_watermark", R"sql(
SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS watermark)sql"};

inline constexpr Query kAllActiveJobs{"all_active_jobs", R"sql(
SELECT id FROM jobs WHERE state IN ('pending', 'running') ORDER BY created_at, id)sql"};

// $1 the watermark (xid8 as text), $2 further job ids. Wall-time budgets are
// protobuf JSON durations ("3600s"); anything else is left to the job runner.
inline constexpr Query kChangedActiveJobs{"changed_active_jobs", R"sql(
WITH changed AS (
    SELECT id FROM jobs WHERE change_xid >= $1::xid8
    UNION
    SELECT job_id FROM trials WHERE change_xid >= $1::xid8
    UNION
    SELECT id FROM jobs
    WHERE state = 'running'
      AND spec -> 'budget' ->> 'max_wall_time' ~ '^[0-9]{1,12}(\.[0-9]{1,9})?s$'
      AND started_at + make_interval(secs => rtrim(spec -> 'budget' ->> 'max_wall_time', 's')
                                                 ::double precision) <= now()
    UNION
    SELECT unnest($2::uuid[]))
SELECT j.id FROM jobs j JOIN changed c ON c.id = j.id
WHERE j.state IN ('pending', 'running')
ORDER BY j.created_at, j.id)sql"};

inline constexpr Query kSchedulingTrials{"scheduling_trials", R"sql(
SELECT id, number, state,
       jsonb_build_object('encoding', coalesce(candidate -> 'encoding', '[]'::jsonb))::text
           AS candidate
FROM trials WHERE job_id = $1 ORDER BY number)sql"};

inline constexpr Query kSchedulingObjectives{"scheduling_objectives", R"sql(
SELECT o.trial_id, o.objective, o.value, o.source
FROM trial_objectives o JOIN trials t ON t.id = o.trial_id
WHERE t.job_id = $1
ORDER BY o.trial_id, array_position(hilnas_objective_names(), o.objective))sql"};

inline constexpr Query kLatestRecordedFront{"latest_recorded_front", R"sql(
SELECT completed_trials, coalesce(array_to_string(front_trial_ids, ','), '') AS front_trial_ids
FROM job_hypervolume WHERE job_id = $1 ORDER BY completed_trials DESC LIMIT 1)sql"};

inline constexpr Query kInsertHypervolumeWithFront{"insert_hypervolume_with_front", R"sql(
INSERT INTO job_hypervolume (job_id, completed_trials, trial_id, hypervolume, front_size,
                             reference_point, front_trial_ids)
VALUES ($1, $2::integer, $3::uuid, $4::float8, $5::integer, $6::float8[], $7::uuid[]))sql"};

// ---- Events ----

inline constexpr Query kJobExists{"job_exists", R"sql(
SELECT 1 FROM jobs WHERE id = $1)sql"};

inline constexpr Query kAppendJobEvent{"append_job_event", R"sql(
SELECT hilnas_append_job_event($1, $2, $3::jsonb) AS event_id)sql"};

inline constexpr Query kReadJobEvents{"read_job_events", R"sql(
SELECT event_id, hilnas_epoch_us(created_at) AS created_us, kind, payload::text AS payload
FROM job_events
WHERE job_id = $1 AND event_id > $2::bigint
ORDER BY event_id
LIMIT $3)sql"};

// ---- Agents and boards ----

inline constexpr Query kUpsertAgent{"upsert_agent", R"sql(
INSERT INTO agents (id, hostname, version) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE
SET hostname = EXCLUDED.hostname, version = EXCLUDED.version, last_seen_at = now())sql"};

// A board moves to the registering agent; MAINTENANCE, set by a person, stays.
inline constexpr Query kUpsertBoard{"upsert_board", R"sql(
INSERT INTO boards (id, agent_id, board_type, probe_serial, debugger, serial_port, meter,
                    meter_port, health, health_reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (id) DO UPDATE
SET agent_id = EXCLUDED.agent_id, board_type = EXCLUDED.board_type,
    probe_serial = EXCLUDED.probe_serial, debugger = EXCLUDED.debugger,
    serial_port = EXCLUDED.serial_port, meter = EXCLUDED.meter, meter_port = EXCLUDED.meter_port,
    health = CASE WHEN boards.health = 'maintenance' THEN boards.health ELSE EXCLUDED.health END,
    health_reason = CASE WHEN boards.health = 'maintenance' THEN boards.health_reason
                         ELSE EXCLUDED.health_reason END,
    health_changed_at = CASE WHEN boards.health = 'maintenance'
                                  OR boards.health = EXCLUDED.health
                             THEN boards.health_changed_at ELSE now() END,
    active = true, last_seen_at = now())sql"};

inline constexpr Query kDeactivateMissingBoards{"deactivate_missing_boards", R"sql(
UPDATE boards SET active = false
WHERE agent_id = $1 AND active AND NOT (id = ANY ($2::text[])))sql"};

inline constexpr Query kSetBoardHealth{"set_board_health", R"sql(
UPDATE boards
SET health = $3, health_reason = $4,
    health_changed_at = CASE WHEN health = $3 THEN health_changed_at ELSE now() END,
    consecutive_failures = CASE WHEN $3 = 'good' THEN 0 ELSE consecutive_failures END,
    last_seen_at = now()
WHERE id = $1 AND agent_id = $2)sql"};

inline constexpr Query kListBoards{"list_boards", R"sql(
SELECT id, board_type, probe_serial, debugger, serial_port, meter, meter_port, health,
       health_reason
FROM boards ORDER BY id)sql"};

// Trainer workers seen within $1 seconds or holding a training lease, and the
// datasets they advertise.
inline constexpr Query kLiveWorkers{"live_workers", R"sql(
SELECT count(DISTINCT w.id) AS workers,
       coalesce(bool_or(cardinality(w.datasets) = 0), false) AS any_dataset,
       coalesce(string_agg(DISTINCT d, E'\n' ORDER BY d), '') AS datasets
FROM workers w LEFT JOIN LATERAL unnest(w.datasets) AS d ON true
WHERE w.last_seen_at > now() - make_interval(secs => $1::double precision)
   OR w.id IN (SELECT lease_owner FROM trials WHERE state = 'training'))sql"};

// ---- The farm and the workers (hilnas boards, hilnas workers) ----

inline constexpr Query kDatabaseNow{"database_now", "SELECT hilnas_epoch_us(now()) AS now_us"};

// v_board_utilisation with the board's debugger, its agent, and the job of the
// trial it measures now.
inline constexpr Query kBoardUtilisation{"board_utilisation", R"sql(
SELECT u.board_id, u.board_type, u.agent_id, a.hostname AS agent_hostname, u.health,
       u.health_reason, u.active, u.consecutive_failures, b.debugger,
       hilnas_epoch_us(u.last_seen_at) AS last_seen_us,
       hilnas_epoch_us(a.last_seen_at) AS agent_last_seen_us,
       coalesce(u.measuring_trial_id::text, '') AS measuring_trial_id,
       coalesce(t.job_id::text, '') AS measuring_job_id,
       coalesce(j.owner, '') AS measuring_job_owner,
       u.measurements_total, u.measurements_24h, u.failed_leases_24h, u.busy_seconds_24h,
       u.utilisation_24h
FROM v_board_utilisation u
JOIN boards b ON b.id = u.board_id
JOIN agents a ON a.id = u.agent_id
LEFT JOIN trials t ON t.id = u.measuring_trial_id
LEFT JOIN jobs j ON j.id = t.job_id
ORDER BY u.board_id)sql"};

// Every worker, live by the rule of kLiveWorkers ($1 seconds).
inline constexpr Query kListWorkers{"list_workers", R"sql(
SELECT w.id AS worker_id, w.hostname, w.version, w.device, w.device_name, w.memory_bytes,
       w.cpu_threads, array_to_string(w.datasets, E'\n') AS datasets,
       hilnas_epoch_us(w.first_seen_at) AS first_seen_us,
       hilnas_epoch_us(w.last_seen_at) AS last_seen_us,
       (w.last_seen_at > now() - make_interval(secs => $1::double precision)
        OR EXISTS (SELECT 1 FROM trials t WHERE t.state = 'training' AND t.lease_owner = w.id))
           AS live
FROM workers w ORDER BY w.id)sql"};

// The training leases held now, by holder.
inline constexpr Query kWorkerLeases{"worker_leases", R"sql(
SELECT t.lease_owner AS worker_id, t.id::text AS trial_id, t.job_id::text AS job_id,
       j.owner AS job_owner, t.number AS trial_number,
       hilnas_epoch_us(t.leased_at) AS leased_at_us,
       hilnas_epoch_us(t.lease_expires_at) AS expires_at_us
FROM trials t JOIN jobs j ON j.id = t.job_id
WHERE t.state = 'training'
ORDER BY t.lease_owner, t.job_id, t.number)sql"};

inline constexpr Query kAll[] = {kSetStatementTimeout,
                                 kInsertJob,
                                 kFindJobByRequest,
                                 kLoadJobs,
                                 kLoadTrialCounts,
                                 kListJobIds,
                                 kLockJob,
                                 kSetJobState,
                                 kLockJobTrials,
                                 kStaleUnleasedTrials,
                                 kReserveTrialNumbers,
                                 kCountTrialsOfJob,
                                 kInsertTrials,
                                 kListTrialIds,
                                 kLoadTrials,
                                 kLoadMetrics,
                                 kLoadObjectives,
                                 kLoadMeasurements,
                                 kLoadArtifactRefs,
                                 kLockTrial,
                                 kTrialJob,
                                 kMarkInfeasible,
                                 kClaimTrial,
                                 kArtifactRefByKind,
                                 kTouchAgent,
                                 kLockBoard,
                                 kClaimMeasurement,
                                 kLeaseJob,
                                 kLoadArtifactByKind,
                                 kLoadArtifact,
                                 kLockLease,
                                 kEndedLease,
                                 kExtendLease,
                                 kEndLease,
                                 kExpiredLeaseTrials,
                                 kLockExpiredLease,
                                 kFinishCancellations,
                                 kUpsertMetrics,
                                 kUpsertObjectives,
                                 kSetFinalModel,
                                 kInsertArtifact,
                                 kArtifactExists,
                                 kInsertMeasurement,
                                 kBoardMeasured,
                                 kBoardFault,
                                 kParetoFront,
                                 kJobObjectives,
                                 kLatestHypervolume,
                                 kUpsertHypervolume,
                                 kJobExists,
                                 kAppendJobEvent,
                                 kReadJobEvents,
                                 kUpsertAgent,
                                 kUpsertBoard,
                                 kDeactivateMissingBoards,
                                 kSetBoardHealth,
                                 kListBoards,
                                 kLiveWorkers,
                                 kJobStateAndLastNumber,
                                 kChangeWatermark,
                                 kAllActiveJobs,
                                 kChangedActiveJobs,
                                 kSchedulingTrials,
                                 kSchedulingObjectives,
                                 kLatestRecordedFront,
                                 kInsertHypervolumeWithFront,
                                 kDatabaseNow,
                                 kBoardUtilisation,
                                 kListWorkers,
                                 kWorkerLeases};

}  // namespace hilnas::store::sql
