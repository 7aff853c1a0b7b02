package report

// readmeTemplate is the README's study section: one sentence and one
// figure per experiment, every number taken from the results file.
const readmeTemplate = `## The study, one figure and one sentence each

Numbers are means over {{seeds}} seeds with 95 % Student t intervals ({{.Scale}} scale, ` + "`reproduce all --scale {{.Scale}} --seed {{.Seed}}`" + `);
each verdict comes from a criterion fixed in the code before the results (confirmed: the interval lies wholly
on the claim's side, refuted: wholly on the other). KS values are in units of the 95 % KS sampling bound,
W2 values in units of the W2 between two independent samples (the floor).

**width** — N(0,½I_k) → N(0,I_k) with hidden width w around k. The Jacobian never has rank above w
({{verdict "width/rank"}} in every cell) and every w < k network pays the loss that bound forces
({{verdict "width/bound"}}); the seed's "hard if k > w" is {{verdict "width/hard"}} (KS of w < k minus w ≥ k:
{{iv "width/hard"}} bounds) and "more training, still not perfect" is {{verdict "width/imperfect"}} (w ≥ k:
KS {{iv "width/imperfect"}} bounds). At the seed's k = 256 (the paper table below) every network of
width near k falls short of Chi(256) and grows with training, as in the seed's figure; w < k and w ≥ k
end alike there, and only w = 2k reaches the law ([docs/FILM.md](docs/FILM.md)).
![width](docs/figures/width.png)

**variance** — the same network carries 8 gaussians onto moons and onto a line, but the line does not map
back: line → 8 gaussians W2 {{iv "variance/line"}} × the floor ({{verdict "variance/line"}}), while moons →
8 gaussians reaches {{iv "variance/moons"}} ({{verdict "variance/moons"}}); the exact 8-gaussian field reads
{{iv "variance/ideal"}}.
![variance](docs/figures/variance.png)

**rank** — with a recipe chosen so that its controls converge, a rank-64 source in 128 dimensions ends at KS
{{iv "rank/far"}} bounds from Chi(128) ({{verdict "rank/far"}}) with live-direction variance
{{stat "rank" "converging rank 64" "live_var"}} (every seed in [0.9, 1.1]: {{verdict "rank/live"}}) and dead-direction variance
{{stat "rank" "converging rank 64" "dead_var"}}; the full-rank control reaches {{iv "rank/control"}} bounds
({{verdict "rank/control"}}); the exact ODE from the rank-64 source ends at Chi(64) ({{iv "rank/exact"}} bounds).
The flow keeps the source's dimension: its output's intrinsic dimension (TwoNN {{stat "rank" "converging rank 64" "twonn"}}) lies
{{iv "rank/id"}} of the way from an exact rank-64 sample's ({{stat "rank" "converging rank 64" "rank_sample_twonn"}}) to a full-rank
one's ({{stat "rank" "converging rank 64" "full_sample_twonn"}}) ({{verdict "rank/id"}}).
The short recipe of earlier versions, the seed's regime, leaves the live variance at {{iv "rank/short"}} and the
mean norm at {{stat "rank" "short rank 64" "mean_norm"}}.
![rank](docs/figures/rank.png)

**mnist** — MNIST's pixel covariance has numerical rank {{stat "mnist" "train split" "rank"}} (NumPy's tolerance;
{{stat "mnist" "train split" "rank32"}} with float32's); {{stat "mnist" "train split" "components_95"}} components hold 95 % of the
variance, {{stat "mnist" "train split" "components_99"}} hold 99 %; no standard rule gives the seed's 228 ({{verdict "mnist/228"}}).
![mnist](docs/figures/mnist.png)

**stochastic** — randomness: the SDE of a stochastic interpolant maps the line to the 8 gaussians at
{{iv "stochastic/sde-line"}} × the floor ({{verdict "stochastic/sde-line"}}) and carries the rank-64 source to KS
{{iv "stochastic/sde-rank"}} bounds from Chi(128) ({{verdict "stochastic/sde-rank"}}), filling the dead directions to
variance {{iv "stochastic/sde-dead"}} (the same sampler with the exact drift and score: {{iv "stochastic/exact-sde-dead"}},
{{verdict "stochastic/exact-sde-dead"}} within ±10 % of 1; this experiment trains with rank's short recipe). The drift
is learned split, b = v + γ̇·η: trained on ẋ_t itself it learned no live transport
([docs/STOCHASTIC.md](docs/STOCHASTIC.md)). The control, the learned drift alone (its probability-flow ODE), takes
the live directions from the source's 0.5 to {{iv "stochastic/pf-live"}} where the exact one reaches 1
({{verdict "stochastic/pf-live"}}; the short recipe's deterministic ODE leaves them at
{{stat "stochastic" "embedded:dim=128,rank=64,var=0.5, ode" "live_var"}}); the SDE's verdicts speak about randomness
only where it is confirmed. How much randomness: from the degenerate source even the exact SDE fills the dead
directions only to 1 − e^{−2πε}, ε the peak of the SDE's diffusion (0.957 at the default 0.5, 0.998 at 1;
[docs/STOCHASTIC.md](docs/STOCHASTIC.md)). At ε = 1
the learned SDE ends {{iv "stochastic/sde-eps-rank"}} bounds from Chi(128) ({{verdict "stochastic/sde-eps-rank"}}),
its dead variance up to {{iv "stochastic/sde-eps-dead"}} from the exact SDE's ({{verdict "stochastic/sde-eps-dead"}}). Noise ε in the dead
directions gives KS {{iv "stochastic/noise-rank"}} bounds, through a flow map whose largest stretch, measured by
` + "`diagnose`" + `, is {{iv "stochastic/noise-lip"}} × the closed form's √(1/ε) ({{verdict "stochastic/noise-lip"}}).
![stochastic](docs/figures/stochastic.png)

**latent** — a PCA latent: the embedded Gaussian's inverse flow reaches KS {{iv "latent/latent"}} bounds from
Chi(d) in the latent ({{verdict "latent/latent"}}) against {{iv "latent/full"}} in the full space. On MNIST, at the
same flow budget, an autoencoder latent (d = 16) scores FD-MNIST {{iv "latent/fd-ae-pca"}} × the 95 % PCA latent's
({{verdict "latent/fd-ae-pca"}}) and {{iv "latent/fd-ae-pixels"}} × pixel space's ({{verdict "latent/fd-ae-pixels"}}),
using all ten digits (class entropy {{iv "latent/ae-coverage"}} nats, {{verdict "latent/ae-coverage"}}).
![latent](docs/figures/latent.png)

{{if has "phase"}}**phase** — in D = 16, over source rank × width × training steps: the ODE flow's output keeps the source's
intrinsic dimension r ({{verdict "phase/ode-keeps"}} in every cell: dimension gain towards D below ¼), the ε fix's output
reaches D (gain {{iv "phase/eps-reaches"}}, {{verdict "phase/eps-reaches"}}) and the SDE's too (gain {{iv "phase/sde-reaches"}},
{{verdict "phase/sde-reaches"}}); the ε fix's flow-map Lipschitz constant grows as √(b/ε) to the power p =
{{iv "phase/eps-lip-grows"}} ({{verdict "phase/eps-lip-grows"}}) and is {{iv "phase/eps-lip-price"}} × √(b/ε) at the smallest ε.
![phase](docs/figures/phase.png)

{{end}}{{if has "conditional"}}**conditional** — a label and classifier-free guidance v(∅) + w·(v(L) − v(∅)): on 8 gaussians at w = 1 the worst
label keeps {{iv "conditional/mode"}} of its samples nearest its own centre ({{verdict "conditional/mode"}}); on MNIST (a
PCA latent) the classifier reads the requested digit in {{iv "conditional/accuracy"}} of the samples at the best w
({{verdict "conditional/accuracy"}}), guidance costs per-class variety (FD-MNIST at the largest w {{iv "conditional/diversity"}} ×
w = 1's, {{verdict "conditional/diversity"}}), and the null label's digits score {{iv "conditional/equal"}} × an unconditional
run's FD-MNIST ({{verdict "conditional/equal"}}) but {{iv "conditional/share"}} × an unconditional run of its share of the
budget, cond_drop × the steps ({{verdict "conditional/share"}}): the null label learns from the rows it is given.
![conditional](docs/figures/conditional-guidance.png)

{{end}}{{if mixed}}These experiments come from separate runs, each with its date below; their times add up to {{minutes}} minutes
on {{cores}}{{else}}` + "`reproduce all --scale {{.Scale}}`" + ` took {{minutes}} minutes on {{cores}}{{end}} (one-minute load
average at the start of each experiment: {{load}}); per experiment: {{times}}. The report lists every finding,
the seed's claims first. Build: {{.Build}}. Written: {{.Date}}.
`
