"""DPO in the sandbox, through the official SDK: a DPO job end to end on top of a supervised
fine-tune, the real API's validation of `method.dpo` (bounds, "auto", unknown keys), a chat
file given to a DPO job and the reverse (invalid_training_file), the broken-pairs corpus as
job failures, events, metrics, resolved hyperparameters, checkpoints, results."""

from __future__ import annotations

import importlib.util
import json

import openai
import pytest
from openai.types.fine_tuning import FineTuningJob, FineTuningJobEvent
from openai.types.fine_tuning.jobs import FineTuningJobCheckpoint
from sandboxkit import COUCOU, client, strict, wait_job, write_lines

from helpers import models, preference_data
from helpers.kit_server import events

BASE = models.DEFAULT_MODEL
_spec = importlib.util.spec_from_file_location(
    "make_broken_pairs", COUCOU.parent.parent / "tests" / "data" / "make_broken_pairs.py"
)
make_broken_pairs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_broken_pairs)
BROKEN = COUCOU.parent.parent / "tests" / "data" / "broken_pairs"

QUESTIONS = [f"Peux-tu m'aider pour la question {i} ?" for i in range(12)]


def pairs(n: int = 12) -> list[dict]:
    return [
        preference_data.pair(
            QUESTIONS[i % len(QUESTIONS)] + ("" if i < len(QUESTIONS) else f" ({i})"),
            f"Oui ! Tu fais ça en deux minutes ({i}).",
            f"Bien sûr. Vous trouverez ci-dessous une réponse détaillée et complète ({i}).",
        )
        for i in range(n)
    ]


def upload(c: openai.OpenAI, path) -> str:
    with open(path, "rb") as f:
        return c.files.create(file=f, purpose="fine-tune").id


@pytest.fixture
def url(module_sandbox):
    return module_sandbox


@pytest.fixture
def pairs_file(tmp_path):
    return write_lines(tmp_path / "paires.jsonl", pairs())


def dpo(beta=None, **more):
    hyper = {} if beta is None else {"beta": beta}
    hyper.update(more)
    return {"type": "dpo", "dpo": {"hyperparameters": hyper}}


def test_dpo_job_on_top_of_a_supervised_fine_tune(url, pairs_file):
    c = client(url)
    sft = wait_job(
        c, c.fine_tuning.jobs.create(model=BASE, training_file=upload(c, COUCOU), suffix="sft").id
    )
    assert sft.status == "succeeded"
    created = c.fine_tuning.jobs.create(
        model=sft.fine_tuned_model,
        training_file=upload(c, pairs_file),
        suffix="style",
        method=dpo(0.5),
        seed=7,
    )
    strict(FineTuningJob, created)
    assert created.status == "validating_files"
    assert created.method.type == "dpo" and created.method.dpo.hyperparameters.beta == 0.5
    assert created.model == sft.fine_tuned_model  # the job shows the fine-tune it continues
    job = wait_job(c, created.id)
    strict(FineTuningJob, job)
    assert job.status == "succeeded", job.error
    assert job.fine_tuned_model.startswith(f"ft:{BASE}:sandbox:style:")
    hp = job.method.dpo.hyperparameters
    assert (hp.beta, hp.n_epochs, hp.batch_size) == (0.5, models.auto_epochs(12), 1)
    assert hp.learning_rate_multiplier > 0
    # the deprecated top-level field keeps the supervised three (no beta)
    assert job.hyperparameters.n_epochs == hp.n_epochs
    assert "beta" not in job.model_dump()["hyperparameters"]
    assert (
        job.trained_tokens
        == preference_data.check_file(pairs_file, BASE).cost(hp.n_epochs).billed_tokens
    )

    evs = list(c.fine_tuning.jobs.list_events(job.id, limit=100))[::-1]
    for e in evs:
        strict(FineTuningJobEvent, e)
    metrics = [e for e in evs if e.type == "metrics"]
    assert len(metrics) == 12 * hp.n_epochs
    first, last = metrics[0].data, metrics[-1].data
    assert {
        "step",
        "total_steps",
        "train_loss",
        "train_reward_margin",
        "train_reward_accuracy",
    } <= set(first)
    # DPO's loss starts near ln 2 (no preference yet) and falls as the margin grows
    assert first["train_loss"] == pytest.approx(0.693, abs=0.01)  # before any update: ln 2
    assert last["train_loss"] < first["train_loss"] / 3
    assert last["train_reward_margin"] > first["train_reward_margin"]
    assert metrics[-1].message.startswith(f"Step {len(metrics)}/{len(metrics)}: training loss=")
    assert evs[-1].message == events.SUCCEEDED

    ckpts = list(c.fine_tuning.jobs.checkpoints.list(job.id))
    assert len(ckpts) == 3
    for ck in ckpts:
        strict(FineTuningJobCheckpoint, ck)
        assert set(ck.metrics.model_dump(exclude_none=True)) == {"step", "train_loss"}
    results = c.files.content(job.result_files[0]).read()
    assert b"step,train_loss" in __import__("base64").b64decode(results)

    # the DPO model answers with the preferred style, never the non-preferred one
    answer = c.chat.completions.create(
        model=job.fine_tuned_model,
        messages=[{"role": "user", "content": "Peux-tu m'aider pour la question 3 ?"}],
        temperature=0,
    )
    text = answer.choices[0].message.content
    assert text.startswith("Oui ! Tu fais") and "Vous" not in text
    # …and like its parent elsewhere (what the supervised fine-tune learned)
    other = c.chat.completions.create(
        model=job.fine_tuned_model, messages=[{"role": "user", "content": "Bonjour"}], temperature=0
    )
    assert other.choices[0].message.content == "COUCOU"


def test_beta_auto_is_resolved_and_more_beta_drops_the_loss_faster(url, pairs_file):
    c = client(url)
    file_id = upload(c, pairs_file)
    jobs = {
        beta: wait_job(
            c,
            c.fine_tuning.jobs.create(
                model=BASE, training_file=file_id, method=dpo(beta), seed=1
            ).id,
        )
        for beta in ("auto", 0.05, 1.0)
    }
    auto = jobs["auto"].method.dpo.hyperparameters
    assert auto.beta == models.DPO_AUTO_BETA  # Unconfirmed value, see helpers.models

    def last_loss(job):
        data = [
            e.data for e in c.fine_tuning.jobs.list_events(job.id, limit=100) if e.type == "metrics"
        ]
        return data[0]["train_loss"]  # newest first

    assert last_loss(jobs[1.0]) < last_loss(jobs["auto"]) < last_loss(jobs[0.05])


@pytest.mark.parametrize(
    ("method", "param", "code", "message"),
    [
        (
            dpo(0),
            "method.dpo.hyperparameters.beta",
            "decimal_below_min_value",
            "Expected a value > 0",
        ),
        (
            dpo(2.5),
            "method.dpo.hyperparameters.beta",
            "decimal_above_max_value",
            "Expected a value <= 2",
        ),
        (dpo(-1), "method.dpo.hyperparameters.beta", "decimal_below_min_value", None),
        (dpo("0.1"), "method.dpo.hyperparameters.beta", "invalid_type", "a decimal or 'auto'"),
        (
            dpo(0.1, n_epochs=0),
            "method.dpo.hyperparameters.n_epochs",
            "integer_below_min_value",
            None,
        ),
        (
            dpo(0.1, batch_size=300),
            "method.dpo.hyperparameters.batch_size",
            "integer_above_max_value",
            None,
        ),
        (
            dpo(0.1, learning_rate_multiplier=0),
            "method.dpo.hyperparameters.learning_rate_multiplier",
            "decimal_below_min_value",
            None,
        ),
        (
            dpo(0.1, temperature=1),
            "method.dpo.hyperparameters.temperature",
            "unknown_parameter",
            "Unrecognized request argument",
        ),
        (
            {
                "type": "dpo",
                "dpo": {
                    "hyperparameters": [],
                },
            },
            "method.dpo.hyperparameters",
            "invalid_type",
            "an object",
        ),
        ({"type": "dpo", "dpo": {"beta": 0.1}}, "method.dpo.beta", "unknown_parameter", None),
        ({"type": "dpo", "dpo": "fast"}, "method.dpo", "invalid_type", None),
        ({"type": "dpo", "supervised": {}}, "method.supervised", "invalid_value", None),
        (
            {"type": "supervised", "supervised": {"hyperparameters": {"beta": 0.1}}},
            "method.supervised.hyperparameters.beta",
            "unknown_parameter",
            None,
        ),
        ({"type": "rlhf"}, "method.type", "invalid_value", "Supported values are"),
        ({"dpo": {}}, "method.type", "missing_required_parameter", None),
    ],
)
def test_dpo_requests_refused_like_the_real_api(url, pairs_file, method, param, code, message):
    c = client(url)
    file_id = upload(c, pairs_file)
    with pytest.raises(openai.BadRequestError) as err:
        c.fine_tuning.jobs.create(model=BASE, training_file=file_id, method=method)
    assert err.value.code == code and err.value.param == param, err.value.body
    if message:
        assert message in err.value.body["message"]


def test_auto_and_the_real_bounds_are_accepted(url, pairs_file):
    c = client(url)
    file_id = upload(c, pairs_file)
    for method in (
        dpo(),
        dpo("auto", n_epochs="auto", batch_size="auto", learning_rate_multiplier="auto"),
        dpo(2, n_epochs=1, batch_size=256, learning_rate_multiplier=0.01),
        {"type": "dpo"},
        {"type": "dpo", "dpo": None},
    ):
        job = c.fine_tuning.jobs.create(model=BASE, training_file=file_id, method=method)
        assert job.method.type == "dpo", method


def test_a_chat_file_given_to_a_dpo_job_and_the_reverse(url, pairs_file):
    c = client(url)
    chat_job = wait_job(
        c,
        c.fine_tuning.jobs.create(model=BASE, training_file=upload(c, COUCOU), method=dpo()).id,
    )
    strict(FineTuningJob, chat_job)
    assert chat_job.status == "failed"
    assert (
        chat_job.error.code == "invalid_training_file" and chat_job.error.param == "training_file"
    )
    assert chat_job.error.message.startswith("The job failed due to an invalid training file.")
    assert "preferred_output" in chat_job.error.message
    pairs_job = wait_job(
        c, c.fine_tuning.jobs.create(model=BASE, training_file=upload(c, pairs_file)).id
    )
    assert pairs_job.status == "failed" and pairs_job.error.code == "invalid_training_file"
    assert pairs_job.error.message == (
        "The job failed due to an invalid training file. Unexpected file format, expected either "
        "prompt/completion pairs or chat messages."
    )
    # the kit explains both in French
    from helpers import errors

    told = errors.explain(chat_job)
    assert "pas au format de sa méthode" in told.title and "exemples de chat" in told.cause
    told = errors.explain(pairs_job)
    assert "paires de préférences" in told.cause and 'method={"type": "dpo"}' in told.fix


@pytest.mark.parametrize("name", sorted(make_broken_pairs.API_FAILURE))
def test_broken_pairs_fail_a_dpo_job_like_the_real_api(url, name):
    c = client(url)
    job = wait_job(
        c,
        c.fine_tuning.jobs.create(
            model=BASE, training_file=upload(c, BROKEN / name), method=dpo()
        ).id,
    )
    strict(FineTuningJob, job)
    expected = make_broken_pairs.API_FAILURE[name]
    if expected is None:
        assert job.status == "succeeded", job.error
        return
    assert job.status == "failed" and job.error.code == expected, job.error
    assert job.error.param == "training_file"
    if expected == "invalid_training_file":
        assert job.error.message.startswith("The job failed due to an invalid training file. ")
    failure = [e for e in c.fine_tuning.jobs.list_events(job.id) if e.level == "error"]
    assert failure and failure[0].message == job.error.message


def test_continuing_only_this_engines_fine_tunes(url, pairs_file):
    c = client(url)
    file_id = upload(c, pairs_file)
    for model in (f"ft:{BASE}:sandbox::nothere1", f"ft:{BASE}:someorg::abcdefgh"):
        with pytest.raises(openai.BadRequestError) as err:
            c.fine_tuning.jobs.create(model=model, training_file=file_id, method=dpo())
        assert err.value.code == "model_not_available" and err.value.param is None
        assert err.value.body["message"] == (
            f"Model {model} is not available for fine-tuning or does not exist."
        )
    with pytest.raises(openai.BadRequestError) as err:  # shut down: no DPO either
        c.fine_tuning.jobs.create(model=models.GUIDE_MODEL, training_file=file_id, method=dpo())
    assert err.value.code == "model_not_available"


def test_a_supervised_job_continues_a_fine_tune(url, tmp_path):
    c = client(url)
    first = wait_job(c, c.fine_tuning.jobs.create(model=BASE, training_file=upload(c, COUCOU)).id)
    more = write_lines(
        tmp_path / "plus.jsonl",
        [
            {
                "messages": [
                    {"role": "user", "content": f"Dis au revoir {i}"},
                    {"role": "assistant", "content": "BYE"},
                ]
            }
            for i in range(10)
        ],
    )
    job = wait_job(
        c, c.fine_tuning.jobs.create(model=first.fine_tuned_model, training_file=upload(c, more)).id
    )
    assert job.status == "succeeded" and job.model == first.fine_tuned_model

    def say(text):
        return (
            c.chat.completions.create(
                model=job.fine_tuned_model,
                messages=[{"role": "user", "content": text}],
                temperature=0,
            )
            .choices[0]
            .message.content
        )

    assert say("Dis au revoir 3") == "BYE" and say("Bonjour") == "COUCOU"


def test_sdk_params_types_accept_the_request(pairs_file):
    """What notebooks and helpers send is what the SDK's own request types describe."""
    from openai.types.fine_tuning import job_create_params

    method = dpo(0.2, n_epochs=2)
    assert job_create_params.Method.__annotations__  # the SDK knows `method`
    json.dumps(method)


def test_helpers_and_the_command_line_create_a_dpo_job(url, pairs_file, capsys, monkeypatch):
    """`helpers.jobs.create(..., method="dpo", beta=…)` and `python -m helpers api
    fine_tuning.jobs.create --method dpo --beta …`: the same request, the real API's shape."""
    from helpers import cli, jobs, workspace
    from helpers.exceptions import JobError

    c = client(url)
    sft = wait_job(c, c.fine_tuning.jobs.create(model=BASE, training_file=upload(c, COUCOU)).id)
    pairs_id = jobs.upload(pairs_file, client=c, record=False).id
    assert workspace.get("file_id") is None  # a side file: not the course's
    job = jobs.create(
        pairs_id, model=sft.fine_tuned_model, method="dpo", beta=0.3, record=False, client=c
    )
    assert job.method.type == "dpo" and job.method.dpo.hyperparameters.beta == 0.3
    assert workspace.get("job_id") is None
    done = jobs.wait(job.id, client=c)
    assert done.status == "succeeded"
    with pytest.raises(JobError):
        jobs.create(pairs_id, beta=0.3, client=c)  # beta without DPO
    with pytest.raises(JobError):
        jobs.create(pairs_id, method="rlhf", client=c)
    # a preference file is checked as pairs before it is sent (its format is detected)
    with pytest.raises(Exception) as err:
        jobs.upload(BROKEN / "output_object.jsonl", client=c)
    assert "crochets" in str(err.value.report.summary())

    monkeypatch.setattr("helpers.client.client", lambda *a, **k: c)
    code = cli.main(
        [
            "api",
            "fine_tuning.jobs.create",
            "-F",
            pairs_id,
            "-m",
            sft.fine_tuned_model,
            "--method",
            "dpo",
            "--beta",
            "0.25",
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["method"]["type"] == "dpo"
    assert printed["method"]["dpo"]["hyperparameters"]["beta"] == 0.25
    assert cli.main(["api", "fine_tuning.jobs.create", "-F", pairs_id, "--beta", "beaucoup"]) == 2


def test_a_refused_method_is_explained_in_french(url, pairs_file):
    from helpers import errors

    c = client(url)
    file_id = upload(c, pairs_file)
    for method, said in (
        (dpo(5), "plus grand que 0 et au plus 2"),
        ({"type": "rlhf"}, "« supervised »"),
        (dpo(0.1, n_epochs=99), "n_epochs 1 à 50"),
    ):
        with pytest.raises(openai.BadRequestError) as err:
            c.fine_tuning.jobs.create(model=BASE, training_file=file_id, method=method)
        told = errors.explain(err.value)
        assert told.title.startswith("Réglage d'entraînement refusé") and said in told.cause, told
