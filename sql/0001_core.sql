-- hilnas results store and work queue: the core tables.
--
-- Applied once, in a transaction, by `hilnas-controller migrate` (or at controller
-- start); never edited after release: schema changes go into a new numbered file.
--
-- Ids. Jobs, trials, leases and artifacts have uuid ids (gen_random_uuid(), core
-- since PostgreSQL 13): clients see them, so they should be neither guessable
-- nor a count of our volume, and any controller replica can mint one without
-- coordination. Job events are numbered 1, 2, ... per job; measurements have a
-- bigint identity. Workers, agents and boards are named by the ids their owners
-- configure (text).
--
-- Enumerations are text with CHECK constraints rather than PostgreSQL enum
-- types: dashboards read them as plain strings, and adding a value is a one-line
-- change to a constraint in a later migration.
--
-- Lock order (services/store keeps to it, so that its transactions cannot
-- deadlock): workers, agents, boards, then jobs, then trials (several at once:
-- in id order), then job_event_counters, which the deferred event triggers
-- below take at commit. One exception: finishing a measurement locks its trial,
-- then its board; that is safe because the one transaction that holds a board
-- and wants a trial, a measurement claim, skips locked trials instead of
-- waiting. Rows are locked FOR NO KEY UPDATE, which does not block the KEY
-- SHARE locks that foreign-key checks take.

-- The six objectives hilnas knows, all minimised (proto: hilnas.v1.Objective).
CREATE FUNCTION hilnas_objective_names() RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ARRAY['error', 'flash_bytes', 'sram_bytes', 'latency_ms', 'energy_uj', 'macs'] $$;

-- True when no element of `a` repeats (usable in CHECK constraints).
CREATE FUNCTION hilnas_all_distinct(a text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT count(DISTINCT x) = count(*) FROM unnest(a) AS x $$;

-- True for a finite double (not NaN, not +/-Infinity).
CREATE FUNCTION hilnas_finite(x double precision) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT x IS NULL OR (x <> 'NaN' AND x <> 'Infinity' AND x <> '-Infinity') $$;

-- Timestamps as the store reads and writes them: microseconds since the epoch.
CREATE FUNCTION hilnas_epoch_us(t timestamptz) RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM t) * 1000000)::bigint $$;
CREATE FUNCTION hilnas_from_epoch_us(us bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT timestamptz 'epoch' + us * interval '1 microsecond' $$;

-- Trainer workers, upserted every time one claims work.
CREATE TABLE workers (
    id            text PRIMARY KEY CHECK (id <> '' AND length(id) <= 200),
    hostname      text NOT NULL DEFAULT '',
    version       text NOT NULL DEFAULT '',
    device        text NOT NULL DEFAULT 'cpu' CHECK (device IN ('cpu', 'cuda')),
    device_name   text NOT NULL DEFAULT '',
    memory_bytes  bigint NOT NULL DEFAULT 0 CHECK (memory_bytes >= 0),
    cpu_threads   integer NOT NULL DEFAULT 0 CHECK (cpu_threads >= 0),
    datasets      text[] NOT NULL DEFAULT '{}',  -- empty: any dataset
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);

-- Board agents (one per lab host).
CREATE TABLE agents (
    id            text PRIMARY KEY CHECK (id <> '' AND length(id) <= 200),
    hostname      text NOT NULL DEFAULT '',
    version       text NOT NULL DEFAULT '',
    registered_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);

-- Boards, each held by one agent and named by the agent (by convention
-- agent/probe-serial).
CREATE TABLE boards (
    id                   text PRIMARY KEY CHECK (id <> '' AND length(id) <= 200),
    agent_id             text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    board_type           text NOT NULL CHECK (board_type <> ''),
    probe_serial         text NOT NULL DEFAULT '',
    debugger             text NOT NULL DEFAULT 'openocd'
                             CHECK (debugger IN ('openocd', 'pyocd', 'qemu')),
    serial_port          text NOT NULL DEFAULT '',
    meter                text NOT NULL DEFAULT 'none' CHECK (meter IN ('none', 'lpm01a')),
    meter_port           text NOT NULL DEFAULT '',
    health               text NOT NULL DEFAULT 'unknown'
                             CHECK (health IN ('good', 'unknown', 'bad', 'maintenance')),
    health_reason        text NOT NULL DEFAULT '',
    health_changed_at    timestamptz NOT NULL DEFAULT now(),
    consecutive_failures integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    active               boolean NOT NULL DEFAULT true,  -- false: its agent no longer lists it
    registered_at        timestamptz NOT NULL DEFAULT now(),
    last_seen_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX boards_agent ON boards (agent_id);

CREATE TABLE jobs (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    owner             text NOT NULL DEFAULT '' CHECK (length(owner) <= 200),
    request_id        text CHECK (request_id <> '' AND length(request_id) <= 200),
    spec              jsonb NOT NULL CHECK (jsonb_typeof(spec) = 'object'),  -- hilnas.v1.JobSpec
    -- Copied out of the spec for dashboards and the queue:
    dataset           text NOT NULL CHECK (dataset <> ''),
    board_type        text NOT NULL CHECK (board_type <> ''),
    objectives        text[] NOT NULL CHECK (cardinality(objectives) BETWEEN 1 AND 6
                                             AND objectives <@ hilnas_objective_names()
                                             AND hilnas_all_distinct(objectives)),
    measure           boolean NOT NULL DEFAULT true,  -- false: trials complete after training
    max_attempts      integer NOT NULL DEFAULT 3 CHECK (max_attempts BETWEEN 1 AND 100),
    state             text NOT NULL DEFAULT 'pending'
                          CHECK (state IN ('pending', 'running', 'cancelling', 'cancelled',
                                           'completed', 'failed')),
    state_reason      text NOT NULL DEFAULT '',
    error             text NOT NULL DEFAULT '',  -- why failed
    next_trial_number integer NOT NULL DEFAULT 1 CHECK (next_trial_number >= 1),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    UNIQUE (owner, request_id)
);
CREATE INDEX jobs_newest ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_state ON jobs (state);

CREATE TABLE trials (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    job_id           uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    number           integer NOT NULL CHECK (number >= 1),  -- 1, 2, ... within the job
    parent_trial_id  uuid,  -- the trial it was morphed from (same job)
    -- hilnas.v1.Candidate
    candidate        jsonb NOT NULL CHECK (jsonb_typeof(candidate) = 'object'),
    final_model      jsonb,  -- hilnas.v1.Model after DNAS and pruning, from the trainer
    state            text NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'training', 'trained', 'measuring',
                                          'complete', 'failed', 'infeasible', 'stale')),
    state_reason     text NOT NULL DEFAULT '',  -- why it entered its state
    -- attempts that failed or whose lease expired, training and measuring together
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error       text NOT NULL DEFAULT '',
    -- The current lease (training or measuring only):
    lease_id         uuid UNIQUE,
    lease_owner      text,  -- worker id (training) or agent id (measuring)
    lease_board_id   text REFERENCES boards (id),
    leased_at        timestamptz,
    lease_expires_at timestamptz,
    queued_at        timestamptz NOT NULL DEFAULT now(),  -- entered pending or trained: FIFO order
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    UNIQUE (job_id, number),
    UNIQUE (job_id, id),
    FOREIGN KEY (job_id, parent_trial_id) REFERENCES trials (job_id, id),
    CHECK (parent_trial_id IS DISTINCT FROM id),
    CHECK ((lease_id IS NOT NULL) = (state IN ('training', 'measuring'))),
    CHECK ((lease_id IS NULL) = (lease_owner IS NULL)
           AND (lease_id IS NULL) = (leased_at IS NULL)
           AND (lease_id IS NULL) = (lease_expires_at IS NULL)),
    CHECK ((lease_board_id IS NOT NULL) = (state = 'measuring'))
);
-- The two queues: pending trials for trainers, trained ones for boards.
CREATE INDEX trials_pending_queue ON trials (queued_at, id) WHERE state = 'pending';
CREATE INDEX trials_trained_queue ON trials (queued_at, id) WHERE state = 'trained';
-- The reaper's scan.
CREATE INDEX trials_lease_expiry ON trials (lease_expires_at) WHERE lease_id IS NOT NULL;
CREATE INDEX trials_job_state ON trials (job_id, state);
CREATE INDEX trials_parent ON trials (parent_trial_id) WHERE parent_trial_id IS NOT NULL;
-- A board measures one trial at a time.
CREATE UNIQUE INDEX trials_board_lease ON trials (lease_board_id) WHERE lease_board_id IS NOT NULL;

-- Every lease that has ended: a late or repeated call on one of them is told
-- why it is no longer held; board utilisation is computed from them.
CREATE TABLE trial_leases (
    lease_id   uuid PRIMARY KEY,
    trial_id   uuid NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('train', 'measure')),
    holder     text NOT NULL,
    board_id   text REFERENCES boards (id) ON DELETE SET NULL,
    attempt    integer NOT NULL CHECK (attempt >= 1),
    claimed_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,  -- the last expiry it had
    ended_at   timestamptz NOT NULL DEFAULT now(),
    outcome    text NOT NULL
                   CHECK (outcome IN ('completed', 'failed', 'retry', 'expired', 'cancelled',
                                      'infeasible')),
    reason     text NOT NULL DEFAULT ''
);
CREATE INDEX trial_leases_trial ON trial_leases (trial_id);
CREATE INDEX trial_leases_board ON trial_leases (board_id, ended_at) WHERE board_id IS NOT NULL;

CREATE TABLE trial_metrics (
    trial_id    uuid NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,63}$'),
    value       double precision NOT NULL CHECK (hilnas_finite(value)),
    source      text NOT NULL
                    CHECK (source IN ('computed', 'evaluated', 'measured', 'estimated',
                                      'emulated')),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trial_id, name)
);

-- One row per (trial, objective): the value the optimiser observes.
CREATE TABLE trial_objectives (
    trial_id    uuid NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    objective   text NOT NULL CHECK (objective = ANY (hilnas_objective_names())),
    value       double precision NOT NULL
                    CHECK (hilnas_finite(value) AND value >= 0
                           AND (objective <> 'error' OR value <= 1)),
    source      text NOT NULL
                    CHECK (source IN ('computed', 'evaluated', 'measured', 'estimated',
                                      'emulated')),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (trial_id, objective)
);

CREATE TABLE measurements (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trial_id           uuid NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    board_id           text NOT NULL REFERENCES boards (id),
    board_type         text NOT NULL CHECK (board_type <> ''),
    agent_id           text NOT NULL REFERENCES agents (id),
    cycles             bigint NOT NULL CHECK (cycles >= 0),  -- per inference, median of timed runs
    latency_ms         double precision NOT NULL
                           CHECK (hilnas_finite(latency_ms) AND latency_ms >= 0),
    energy_uj          double precision CHECK (hilnas_finite(energy_uj) AND energy_uj >= 0),
    source             text NOT NULL CHECK (source IN ('measured', 'estimated', 'emulated')),
    energy_source      text CHECK (energy_source IN ('measured', 'estimated', 'emulated')),
    sram_static_bytes  bigint NOT NULL DEFAULT 0 CHECK (sram_static_bytes >= 0),
    sram_stack_bytes   bigint NOT NULL DEFAULT 0 CHECK (sram_stack_bytes >= 0),
    sram_arena_bytes   bigint NOT NULL DEFAULT 0 CHECK (sram_arena_bytes >= 0),
    sram_bytes         bigint NOT NULL DEFAULT 0 CHECK (sram_bytes >= 0),  -- total
    flash_text_bytes   bigint NOT NULL DEFAULT 0 CHECK (flash_text_bytes >= 0),
    flash_rodata_bytes bigint NOT NULL DEFAULT 0 CHECK (flash_rodata_bytes >= 0),
    flash_data_bytes   bigint NOT NULL DEFAULT 0 CHECK (flash_data_bytes >= 0),
    flash_bytes        bigint NOT NULL DEFAULT 0 CHECK (flash_bytes >= 0),  -- total
    outputs_match_host boolean NOT NULL DEFAULT false,
    -- Provenance:
    toolchain          text NOT NULL DEFAULT '',
    firmware_sha256    text NOT NULL DEFAULT '',
    clock_hz           bigint NOT NULL DEFAULT 0 CHECK (clock_hz >= 0),
    timing_method      text NOT NULL DEFAULT '',
    debugger           text NOT NULL DEFAULT '',
    debugger_version   text NOT NULL DEFAULT '',
    meter              text NOT NULL DEFAULT '',
    agent_version      text NOT NULL DEFAULT '',
    warmup_runs        integer NOT NULL DEFAULT 0 CHECK (warmup_runs >= 0),
    timed_runs         integer NOT NULL DEFAULT 0 CHECK (timed_runs >= 0),
    measured_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((energy_uj IS NULL) = (energy_source IS NULL))
);
CREATE INDEX measurements_trial ON measurements (trial_id);
CREATE INDEX measurements_board ON measurements (board_id, measured_at);

CREATE TABLE artifacts (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    trial_id   uuid NOT NULL REFERENCES trials (id) ON DELETE CASCADE,
    kind       text NOT NULL CHECK (kind IN ('int8_model', 'checkpoint', 'firmware_elf')),
    sha256     text NOT NULL CHECK (sha256 = encode(sha256(data), 'hex')),
    size_bytes bigint NOT NULL CHECK (size_bytes = octet_length(data)),
    data       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (trial_id, kind)
);

-- The hypervolume of a job's front after each completed trial, written by the
-- controller (which owns the reference point).
CREATE TABLE job_hypervolume (
    job_id           uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    completed_trials integer NOT NULL CHECK (completed_trials >= 0),
    trial_id         uuid REFERENCES trials (id) ON DELETE SET NULL,  -- whose completion it follows
    hypervolume      double precision NOT NULL
                         CHECK (hilnas_finite(hypervolume) AND hypervolume >= 0),
    front_size       integer NOT NULL CHECK (front_size >= 0),
    reference_point  double precision[] NOT NULL DEFAULT '{}',
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, completed_trials)
);

-- Events are numbered per job. The counter row is locked from the moment an
-- event id is taken until the transaction commits, so ids become visible in
-- order and a reader resuming after id N never misses one committed later.
CREATE TABLE job_event_counters (
    job_id        uuid PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    last_event_id bigint NOT NULL
);

CREATE TABLE job_events (
    job_id     uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    event_id   bigint NOT NULL CHECK (event_id >= 1),
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind       text NOT NULL
                   CHECK (kind IN ('trial_state', 'progress', 'front', 'hypervolume', 'job_state')),
    -- The oneof member of hilnas.v1.JobEvent for `kind`, in the protobuf JSON mapping.
    payload    jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    PRIMARY KEY (job_id, event_id)
);

-- Appends one event to a job's log; returns its id.
CREATE FUNCTION hilnas_append_job_event(p_job_id uuid, p_kind text, p_payload jsonb)
    RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO job_event_counters AS c (job_id, last_event_id) VALUES (p_job_id, 1)
        ON CONFLICT (job_id) DO UPDATE SET last_event_id = c.last_event_id + 1
        RETURNING c.last_event_id INTO v_id;
    INSERT INTO job_events (job_id, event_id, kind, payload)
        VALUES (p_job_id, v_id, p_kind, p_payload);
    RETURN v_id;
END $$;

-- The trial state machine. Final states: complete, failed, infeasible, stale.
CREATE FUNCTION hilnas_trial_transition_ok(p_from text, p_to text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (p_from, p_to) IN (
        ('pending', 'training'), ('pending', 'infeasible'), ('pending', 'failed'),
        ('pending', 'stale'),
        ('training', 'pending'), ('training', 'trained'), ('training', 'complete'),
        ('training', 'failed'), ('training', 'infeasible'), ('training', 'stale'),
        ('trained', 'measuring'), ('trained', 'failed'), ('trained', 'infeasible'),
        ('trained', 'stale'),
        ('measuring', 'trained'), ('measuring', 'complete'), ('measuring', 'failed'),
        ('measuring', 'infeasible'), ('measuring', 'stale'))
$$;

-- The job state machine. Final states: cancelled, completed, failed.
CREATE FUNCTION hilnas_job_transition_ok(p_from text, p_to text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (p_from, p_to) IN (
        ('pending', 'running'), ('pending', 'cancelling'), ('pending', 'cancelled'),
        ('pending', 'failed'),
        ('running', 'cancelling'), ('running', 'cancelled'), ('running', 'completed'),
        ('running', 'failed'),
        ('cancelling', 'cancelled'), ('cancelling', 'failed'))
$$;

-- Whatever writes a trial, an invalid transition is refused (SQLSTATE HN001)
-- and the timestamps follow the state.
CREATE FUNCTION hilnas_trials_before_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state THEN
        IF NOT hilnas_trial_transition_ok(OLD.state, NEW.state) THEN
            RAISE EXCEPTION 'trial % cannot go from % to %', OLD.id, OLD.state, NEW.state
                USING ERRCODE = 'HN001';
        END IF;
        IF NEW.state IN ('complete', 'failed', 'infeasible', 'stale') THEN
            NEW.finished_at := now();
        END IF;
        IF NEW.state IN ('pending', 'trained') THEN
            NEW.queued_at := now();
        END IF;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER trials_before_update BEFORE UPDATE ON trials
    FOR EACH ROW EXECUTE FUNCTION hilnas_trials_before_update();

-- Every trial state change, including creation, is a job event in the same
-- transaction. The event triggers are deferred to commit, so a transaction
-- holds its job's event counter only while it commits (claims from one job
-- serialise on nothing longer), and events keep the order of the changes.
CREATE FUNCTION hilnas_trials_state_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM hilnas_append_job_event(NEW.job_id, 'trial_state', jsonb_build_object(
        'trial_id', NEW.id,
        'number', NEW.number,
        'from', CASE WHEN TG_OP = 'INSERT' THEN 'TRIAL_STATE_UNSPECIFIED'
                     ELSE 'TRIAL_' || upper(OLD.state) END,
        'to', 'TRIAL_' || upper(NEW.state),
        'reason', NEW.state_reason));
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER trials_state_event_insert AFTER INSERT ON trials
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION hilnas_trials_state_event();
CREATE CONSTRAINT TRIGGER trials_state_event_update AFTER UPDATE OF state ON trials
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION hilnas_trials_state_event();

CREATE FUNCTION hilnas_jobs_before_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state IS DISTINCT FROM OLD.state THEN
        IF NOT hilnas_job_transition_ok(OLD.state, NEW.state) THEN
            RAISE EXCEPTION 'job % cannot go from % to %', OLD.id, OLD.state, NEW.state
                USING ERRCODE = 'HN001';
        END IF;
        IF NEW.state = 'running' AND NEW.started_at IS NULL THEN
            NEW.started_at := now();
        END IF;
        IF NEW.state IN ('cancelled', 'completed', 'failed') THEN
            NEW.finished_at := now();
        END IF;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END $$;
CREATE TRIGGER jobs_before_update BEFORE UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION hilnas_jobs_before_update();

CREATE FUNCTION hilnas_jobs_state_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM hilnas_append_job_event(NEW.id, 'job_state', jsonb_build_object(
        'from', CASE WHEN TG_OP = 'INSERT' THEN 'JOB_STATE_UNSPECIFIED'
                     ELSE 'JOB_' || upper(OLD.state) END,
        'to', 'JOB_' || upper(NEW.state),
        'reason', NEW.state_reason));
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER jobs_state_event_insert AFTER INSERT ON jobs
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION hilnas_jobs_state_event();
CREATE CONSTRAINT TRIGGER jobs_state_event_update AFTER UPDATE OF state ON jobs
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION hilnas_jobs_state_event();
