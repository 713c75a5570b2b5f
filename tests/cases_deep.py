"""Cases of the assignment ``deep`` (RecommenderNet): correct answers in other styles and realistic mistakes.

Each mistake costs exactly its own task, with a message that names it (see notebook_cases.Case):
``forward`` is graded on the layers the student's ``__init__`` builds (or, when those cannot
run, on layers of the specified shapes under the names ``forward`` uses), so a mistake in
``__init__`` costs Task 1 only, and a mistake in ``forward`` costs Task 2 only.

Most cases are edits of the instructor's class (the texts below must occur in it once); whole
classes in other styles are built by :func:`net` with the provided ``_init`` method.
"""

from __future__ import annotations

from notebook_cases import Case, solution_code

NET = "recommender-net"
T1, T2 = "task1-init-test", "task2-forward-test"

LAYERS = (
    "        self.users = nn.Embedding(n_users, n_factors)\n"
    "        self.movies = nn.Embedding(n_movies, n_factors)\n"
    "        self.drop = nn.Dropout(embedding_dropout)\n"
    "        self.hidden = nn.Sequential(*gen_layers(n_factors * 2))\n"
    "        self.fc = nn.Linear(n_last, 1)\n"
)
INT_TO_LIST = "        if isinstance(hidden, int):\n            hidden = [hidden]\n"
HIDDEN_DROPOUT = ("                if dropout_rate is not None and dropout_rate > 0.:\n"
                  "                    hidden_layers.append(nn.Dropout(dropout_rate))\n")
LINEAR_RELU = ("                hidden_layers.append(nn.Linear(n_in, n_out))\n"
               "                hidden_layers.append(nn.ReLU())\n")
RANGE = "        low, high = (1.0, 5.0) if minmax is None else minmax\n"
CAT = "        x = torch.cat([self.users(users), self.movies(movies)], dim=1)\n"
DROP = "        x = self.drop(x)\n"
HIDDEN = "        x = self.hidden(x)\n"
HEAD = "        x = torch.sigmoid(self.fc(x))\n"
SCALE = "        return low + (high - low) * x"

#: The provided ``_init`` method, as the release has it (students keep it in their cell).
PROVIDED_INIT = "\n    def _init(self):" + solution_code("deep")[NET].split("\n    def _init(self):", 1)[1]


def net(init: str, forward: str, before: str = "", signature: str = "") -> dict[str, str]:
    """A whole answer cell: ``before`` (helpers), then the class with the bodies of ``__init__`` (after
    ``super().__init__()``) and ``forward`` (both indented for a method's body), and the provided ``_init``."""
    signature = signature or ("n_users, n_movies, n_factors=50, embedding_dropout=0.02, hidden=10, "
                              "dropout_rate=0.2")
    code = (f"{before.strip()}\n\n\n" if before else "") + (
        "class RecommenderNet(nn.Module):\n"
        f"    def __init__(self, {signature}):\n"
        "        super().__init__()\n"
        f"{init.rstrip()}\n"
        "        self._init()\n\n"
        "    def forward(self, users, movies, minmax=None):\n"
        f"{forward.rstrip()}\n"
        f"{PROVIDED_INIT.rstrip()}\n")
    return {NET: code}


def edit(old: str, new: str) -> tuple[str, str, str]:
    return (NET, old, new)


HELPER_NET = net("""
        self.users = nn.Embedding(n_users, n_factors)
        self.movies = nn.Embedding(n_movies, n_factors)
        self.drop = nn.Dropout(embedding_dropout)
        self.hidden, n_last = mlp(2 * n_factors, hidden, dropout_rate)
        self.fc = nn.Linear(n_last, 1)
""", """
        low, high = (1.0, 5.0) if minmax is None else (float(minmax[0]), float(minmax[1]))
        x = self.drop(torch.cat([self.users(users), self.movies(movies)], 1))
        return low + (high - low) * torch.sigmoid(self.fc(self.hidden(x)))
""", before='''
def mlp(n_in, hidden, p):
    """Linear, ReLU and Dropout(p) for each hidden size; returns the Sequential and its output size."""
    sizes = [hidden] if isinstance(hidden, int) else list(hidden)
    layers = []
    for n_out in sizes:
        layers.extend([nn.Linear(n_in, n_out), nn.ReLU()] + ([nn.Dropout(p)] if p > 0 else []))
        n_in = n_out
    return nn.Sequential(*layers), n_in
''')[NET].replace("super().__init__()", "super(RecommenderNet, self).__init__()")


# --------------------------------------------------------------------------- correct answers in other styles

CORRECT = (
    Case("deep-solution", "deep", "the instructor's solution"),
    Case("deep-docstring-mentions-reference", "deep", "forward's docstring mentions recsys_ref.nn.RecommenderNet",
         edits=(edit("        Predict the ratings of a batch of (user, movie) pairs.\n",
                     "        Predict the ratings of a batch of (user, movie) pairs (the flow of\n"
                     "        recsys_ref.nn.RecommenderNet, written myself).\n"),),
         absent_flags=("reference-used",)),
    Case("deep-ok-modulelist-sigmoid-module", "deep",
         "other names, nn.ModuleList of Linear and of Dropout, F.relu in forward, an nn.Sigmoid head in a Sequential",
         code=net("""
        sizes = [hidden] if isinstance(hidden, int) else list(hidden)
        self.user_table = nn.Embedding(n_users, n_factors)
        self.movie_table = nn.Embedding(n_movies, n_factors)
        self.input_dropout = nn.Dropout(p=embedding_dropout)
        self.linears = nn.ModuleList()
        self.dropouts = nn.ModuleList()
        n_in = 2 * n_factors
        for n_out in sizes:
            self.linears.append(nn.Linear(n_in, n_out))
            self.dropouts.append(nn.Dropout(dropout_rate or 0.0))
            n_in = n_out
        self.head = nn.Sequential(nn.Linear(n_in, 1), nn.Sigmoid())
""", """
        lo, hi = (1, 5) if minmax is None else (minmax[0], minmax[1])
        x = torch.cat((self.user_table(users), self.movie_table(movies)), 1)
        x = self.input_dropout(x)
        for linear, dropout in zip(self.linears, self.dropouts):
            x = dropout(F.relu(linear(x)))
        return self.head(x) * (hi - lo) + lo
""")),
    Case("deep-ok-functional-dropout", "deep",
         "the embedding dropout applied as F.dropout(x, p=self.drop.p, training=self.training)",
         edits=(edit(DROP, "        x = F.dropout(x, p=self.drop.p, training=self.training)\n"),)),
    Case("deep-ok-functional-hidden-dropout", "deep",
         "hidden dropouts registered as modules, applied with F.dropout(x, self.dropout_rate, self.training)",
         code=net("""
        sizes = [hidden] if isinstance(hidden, int) else hidden
        self.dropout_rate = dropout_rate
        self.u = nn.Embedding(n_users, n_factors)
        self.m = nn.Embedding(n_movies, n_factors)
        self.emb_drop = nn.Dropout(embedding_dropout)
        self.layers = nn.ModuleList()
        self.drops = nn.ModuleList()
        for n_in, n_out in zip([2 * n_factors] + sizes[:-1], sizes):
            self.layers.append(nn.Linear(n_in, n_out))
            if dropout_rate > 0:
                self.drops.append(nn.Dropout(dropout_rate))
        self.out = nn.Linear(sizes[-1], 1)
""", """
        low, high = minmax if minmax is not None else (1.0, 5.0)
        x = self.emb_drop(torch.cat([self.u(users), self.m(movies)], dim=1))
        for layer in self.layers:
            x = F.dropout(F.relu(layer(x)), self.dropout_rate, self.training)
        return low + (high - low) * torch.sigmoid(self.out(x))
""")),
    Case("deep-ok-all-functional-dropout", "deep",
         "no Dropout module: both dropouts applied in forward as F.dropout(x, p, training=self.training), their "
         "rates kept as attributes (a style the task's text allows)",
         code=net("""
        self.sizes = [hidden] if isinstance(hidden, int) else list(hidden)
        self.emb_p = embedding_dropout
        self.p = dropout_rate
        self.u = nn.Embedding(n_users, n_factors)
        self.m = nn.Embedding(n_movies, n_factors)
        self.linears = nn.ModuleList()
        for n_in, n_out in zip([2 * n_factors] + self.sizes[:-1], self.sizes):
            self.linears.append(nn.Linear(n_in, n_out))
        self.out = nn.Linear(self.sizes[-1], 1)
""", """
        low, high = (1.0, 5.0) if minmax is None else (float(minmax[0]), float(minmax[1]))
        x = torch.cat([self.u(users), self.m(movies)], dim=1)
        x = F.dropout(x, self.emb_p, training=self.training)
        p = self.p
        for layer in self.linears:
            x = F.dropout(F.relu(layer(x)), p=p, training=self.training)
        return low + (high - low) * torch.sigmoid(self.out(x))
""")),
    Case("deep-ok-functional-hidden-dropout-only", "deep",
         "the embedding dropout a module, each hidden layer's dropout F.dropout(h, p=self.p, training=self.training) "
         "(as a fresh user's trial did)",
         code=net("""
        sizes = [hidden] if isinstance(hidden, int) else list(hidden)
        self.u_emb = nn.Embedding(n_users, n_factors)
        self.m_emb = nn.Embedding(n_movies, n_factors)
        self.p = dropout_rate
        self.embedding_drop = nn.Dropout(p=embedding_dropout)
        self.linears = nn.ModuleList()
        widths = [2 * n_factors] + sizes
        for a, b in zip(widths[:-1], widths[1:]):
            self.linears.append(nn.Linear(a, b))
        self.out = nn.Linear(widths[-1], 1)
""", """
        lo, hi = (1, 5) if minmax is None else (float(minmax[0]), float(minmax[1]))
        h = self.embedding_drop(torch.cat((self.u_emb(users), self.m_emb(movies)), 1))
        for layer in self.linears:
            h = F.dropout(F.relu(layer(h)), p=self.p, training=self.training)
        return torch.sigmoid(self.out(h)) * (hi - lo) + lo
""")),
    Case("deep-ok-functional-dropout-rate-default", "deep",
         "the hidden dropout F.dropout(x, self.dropout_rate, training=self.training) with the rate kept as "
         "dropout_rate or 0.0 (None allowed by the docstring; the final trial's style)",
         code=net("""
        sizes = [hidden] if isinstance(hidden, int) else list(hidden)
        self.u_emb = nn.Embedding(n_users, n_factors)
        self.m_emb = nn.Embedding(n_movies, n_factors)
        self.dropout_rate = dropout_rate or 0.0
        self.embedding_drop = nn.Dropout(p=embedding_dropout)
        self.linears = nn.ModuleList()
        widths = [2 * n_factors] + sizes
        for a, b in zip(widths[:-1], widths[1:]):
            self.linears.append(nn.Linear(a, b))
        self.out = nn.Linear(widths[-1], 1)
""", """
        lo, hi = (1, 5) if minmax is None else (float(minmax[0]), float(minmax[1]))
        h = self.embedding_drop(torch.cat((self.u_emb(users), self.m_emb(movies)), 1))
        for layer in self.linears:
            h = F.dropout(F.relu(layer(h)), self.dropout_rate, training=self.training)
        return torch.sigmoid(self.out(h)) * (hi - lo) + lo
""")),
    Case("deep-ok-hstack", "deep", "torch.hstack to concatenate, x.sigmoid(), scaling written as s * (high - low) + low",
         edits=(edit(CAT, "        x = torch.hstack((self.users(users), self.movies(movies)))\n"),
                edit(HEAD, "        x = self.fc(x).sigmoid()\n"),
                edit(SCALE, "        return x * (high - low) + low"))),
    Case("deep-ok-one-sequential", "deep", "hidden layers, final layer and nn.Sigmoid in one nn.Sequential",
         edits=(edit(LAYERS,
                     "        self.users = nn.Embedding(n_users, n_factors)\n"
                     "        self.movies = nn.Embedding(n_movies, n_factors)\n"
                     "        self.drop = nn.Dropout(embedding_dropout)\n"
                     "        self.net = nn.Sequential(*gen_layers(n_factors * 2), nn.Linear(n_last, 1), nn.Sigmoid())\n"),
                edit(HIDDEN + HEAD, "        x = self.net(x)\n"))),
    Case("deep-ok-setattr-layers", "deep", "layers registered one by one with setattr and add_module, looked up "
                                           "with getattr in forward",
         code=net("""
        if type(hidden) is int:
            hidden = [hidden]
        self.n_hidden = len(hidden)
        self.user_emb = nn.Embedding(n_users, n_factors)
        self.item_emb = nn.Embedding(n_movies, n_factors)
        self.add_module("emb_dropout", nn.Dropout(embedding_dropout))
        n_in = 2 * n_factors
        for i, n_out in enumerate(hidden):
            setattr(self, f"fc{i}", nn.Linear(n_in, n_out))
            setattr(self, f"drop{i}", nn.Dropout(dropout_rate))
            n_in = n_out
        self.output = nn.Linear(n_in, 1)
""", """
        if minmax is None:
            minmax = [1, 5]
        x = torch.cat([self.user_emb(users), self.item_emb(movies)], dim=-1)
        x = self.emb_dropout(x)
        for i in range(self.n_hidden):
            x = getattr(self, f"drop{i}")(torch.relu(getattr(self, f"fc{i}")(x)))
        return minmax[0] + (minmax[1] - minmax[0]) * torch.sigmoid(self.output(x))
"""), absent_flags=("monkeypatch",)),
    Case("deep-ok-moduledict", "deep", "every layer in an nn.ModuleDict",
         code=net("""
        sizes = hidden if isinstance(hidden, (list, tuple)) else [hidden]
        self.layers = nn.ModuleDict({
            "users": nn.Embedding(n_users, n_factors),
            "movies": nn.Embedding(n_movies, n_factors),
            "dropout": nn.Dropout(embedding_dropout),
        })
        blocks = []
        n_in = n_factors * 2
        for n_out in sizes:
            blocks += [nn.Linear(n_in, n_out), nn.ReLU(inplace=True)]
            if dropout_rate:
                blocks.append(nn.Dropout(dropout_rate))
            n_in = n_out
        self.layers["mlp"] = nn.Sequential(*blocks)
        self.layers["final"] = nn.Linear(n_in, 1)
""", """
        low, high = (1, 5) if minmax is None else minmax
        x = torch.cat([self.layers["users"](users), self.layers["movies"](movies)], dim=1)
        x = self.layers["mlp"](self.layers["dropout"](x))
        return low + (high - low) * torch.sigmoid(self.layers["final"](x))
""")),
    Case("deep-ok-dropout-before-relu", "deep", "each hidden layer as Linear, Dropout, ReLU (dropout and ReLU commute)",
         edits=(edit(LINEAR_RELU + HIDDEN_DROPOUT,
                     "                hidden_layers.append(nn.Linear(n_in, n_out))\n"
                     "                if dropout_rate is not None and dropout_rate > 0.:\n"
                     "                    hidden_layers.append(nn.Dropout(dropout_rate))\n"
                     "                hidden_layers.append(nn.ReLU())\n"),)),
    Case("deep-ok-dropout-per-embedding", "deep", "the embedding dropout applied to each embedding, then concatenated "
                                                  "(the same distribution)",
         edits=(edit(CAT + DROP, "        x = torch.cat([self.drop(self.users(users)), self.drop(self.movies(movies))], dim=1)\n"),)),
    Case("deep-ok-identity-for-zero-rate", "deep", "nn.Identity() instead of a dropout when dropout_rate is 0",
         edits=(edit(HIDDEN_DROPOUT,
                     "                hidden_layers.append(nn.Dropout(dropout_rate) if dropout_rate else nn.Identity())\n"),)),
    Case("deep-ok-dropout-always", "deep", "a Dropout(dropout_rate) after every hidden layer even when the rate is 0",
         edits=(edit(HIDDEN_DROPOUT, "                hidden_layers.append(nn.Dropout(dropout_rate))\n"),)),
    Case("deep-ok-embedding-weight-index", "deep", "embeddings looked up by indexing their weight tables",
         edits=(edit(CAT, "        x = torch.cat([self.users.weight[users], self.movies.weight[movies]], dim=1)\n"),)),
    Case("deep-ok-extra-argument", "deep", "an extra keyword argument with a default (the activation class), and "
                                          "hidden layers in a Sequential of an OrderedDict",
         code=net("""
        from collections import OrderedDict
        sizes = [hidden] if isinstance(hidden, int) else list(hidden)
        self.users = nn.Embedding(n_users, n_factors)
        self.movies = nn.Embedding(n_movies, n_factors)
        self.drop = nn.Dropout(embedding_dropout)
        named = OrderedDict()
        n_in = 2 * n_factors
        for i, n_out in enumerate(sizes):
            named[f"linear{i}"] = nn.Linear(n_in, n_out)
            named[f"act{i}"] = activation()
            if dropout_rate > 0:
                named[f"dropout{i}"] = nn.Dropout(dropout_rate)
            n_in = n_out
        self.hidden = nn.Sequential(named)
        self.fc = nn.Linear(n_in, 1)
""", RANGE + CAT + DROP + HIDDEN + HEAD + SCALE,
                  signature="n_users, n_movies, n_factors=50, embedding_dropout=0.02, hidden=10, dropout_rate=0.2, "
                            "activation=nn.ReLU")),
    Case("deep-ok-helper-function", "deep", "a helper function outside the class builds the hidden layers; "
                                            "explicit super(RecommenderNet, self)",
         code={NET: HELPER_NET}),
)

# --------------------------------------------------------------------------- the old suite's planted mistakes

PORTED = (
    Case("deep-plain-list", "deep", "hidden layers in a plain Python list (not registered)",
         edits=(edit("self.hidden = nn.Sequential(*gen_layers(n_factors * 2))", "self.hidden = gen_layers(n_factors * 2)"),
                edit(HIDDEN, "        for layer in self.hidden:\n            x = layer(x)\n")),
         expected={T1: 0}, message="plain Python container"),
    Case("deep-hidden-int", "deep", "hidden=10 (an int) not supported, as in the original notebook",
         edits=(edit(INT_TO_LIST, ""),), expected={T1: 0}, message="means one hidden layer"),
    Case("deep-no-hidden-dropout", "deep", "no Dropout after the hidden layers",
         edits=(edit(HIDDEN_DROPOUT, ""),), expected={T1: 0},
         message="Each hidden layer is Linear, ReLU, then nn.Dropout"),
    Case("deep-concat-swapped", "deep", "movies concatenated before users",
         edits=(edit("torch.cat([self.users(users), self.movies(movies)], dim=1)",
                     "torch.cat([self.movies(movies), self.users(users)], dim=1)"),),
         expected={T2: 0}, message="concatenates the movie embedding before the user embedding"),
    Case("deep-no-sigmoid", "deep", "sigmoid missing",
         edits=(edit("x = torch.sigmoid(self.fc(x))", "x = self.fc(x)"),), expected={T2: 0},
         message="The sigmoid is missing"),
    Case("deep-wrong-scaling", "deep", "output scaled by high * sigmoid (range (0, 5))",
         edits=(edit(SCALE, "        return high * x"),), expected={T2: 0}, message="Wrong output scaling"),
    Case("deep-squeezed-output", "deep", "output squeezed to shape (batch,)",
         edits=(edit(SCALE, "        return (low + (high - low) * x).squeeze()"),), expected={T2: 0},
         message="do not squeeze"),
    Case("deep-dropout-in-eval", "deep", "F.dropout without training=self.training: active after eval()",
         edits=(edit(DROP, "        x = F.dropout(x, self.drop.p)\n"),), expected={T2: 0},
         message="dropout stays active after model.eval()"),
    Case("deep-embedding-dropout-unused", "deep", "forward never applies the embedding dropout",
         edits=(edit(DROP, ""),), expected={T2: 0}, message="the embedding dropout (p=1 here) must act on the concatenated embeddings"),
)

# --------------------------------------------------------------------------- new realistic mistakes

MISTAKES = (
    Case("deep-hidden-reversed", "deep", "hidden layers built in reverse order of the hidden sizes",
         edits=(edit("            for n_out in hidden:\n", "            for n_out in reversed(hidden):\n"),
                edit("        n_last = hidden[-1]\n", "        n_last = hidden[0]\n")),
         expected={T1: 0}, message="expected the Linear layers"),
    Case("deep-extra-linear", "deep", "an extra Linear(n_last, n_last) right before the final layer (no activation "
                                      "between them)",
         edits=(edit("        self.fc = nn.Linear(n_last, 1)\n",
                     "        self.extra = nn.Linear(n_last, n_last)\n        self.fc = nn.Linear(n_last, 1)\n"),
                edit(HEAD, "        x = torch.sigmoid(self.fc(self.extra(x)))\n")),
         expected={T1: 0}, message="no layers beyond the specification"),
    Case("deep-extra-input-layer", "deep", "an extra input layer Linear(2k, 2k) + ReLU before the hidden layers",
         edits=(edit("self.hidden = nn.Sequential(*gen_layers(n_factors * 2))",
                     "self.hidden = nn.Sequential(nn.Linear(2 * n_factors, 2 * n_factors), nn.ReLU(), "
                     "*gen_layers(n_factors * 2))"),),
         expected={T1: 0}, message="no layers beyond the specification"),
    Case("deep-embedding-row-too-many", "deep", "the user embedding one row larger (n_users + 1, 1-based ids)",
         edits=(edit("nn.Embedding(n_users, n_factors)", "nn.Embedding(n_users + 1, n_factors)"),),
         expected={T1: 0}, message="One row per user"),
    Case("deep-first-layer-n-factors", "deep", "the first hidden layer takes n_factors inputs, not 2 * n_factors",
         edits=(edit("gen_layers(n_factors * 2)", "gen_layers(n_factors)"),),
         expected={T1: 0}, message="2 * n_factors inputs"),
    Case("deep-embeddings-transposed", "deep", "nn.Embedding(n_factors, n_users): rows and columns swapped",
         edits=(edit("nn.Embedding(n_users, n_factors)", "nn.Embedding(n_factors, n_users)"),
                edit("nn.Embedding(n_movies, n_factors)", "nn.Embedding(n_factors, n_movies)")),
         expected={T1: 0}, message="nn.Embedding(n_users, n_factors)"),
    Case("deep-no-final-bias", "deep", "the final layer without a bias (bias=False)",
         edits=(edit("self.fc = nn.Linear(n_last, 1)", "self.fc = nn.Linear(n_last, 1, bias=False)"),),
         expected={T1: 0}, message="bias=False"),
    Case("deep-one-shared-hidden-dropout", "deep", "one nn.Dropout(dropout_rate) module shared by every hidden "
                                                   "layer (the task asks for one per hidden layer)",
         code=net("""
        sizes = [hidden] if isinstance(hidden, int) else list(hidden)
        self.users = nn.Embedding(n_users, n_factors)
        self.movies = nn.Embedding(n_movies, n_factors)
        self.embedding_dropout = nn.Dropout(embedding_dropout)
        self.hidden_layers = nn.ModuleList(
            nn.Linear(n_in, n_out) for n_in, n_out in zip([2 * n_factors] + sizes, sizes))
        self.dropout = nn.Dropout(dropout_rate)
        self.fc = nn.Linear(sizes[-1], 1)
""", """
        low, high = (1.0, 5.0) if minmax is None else minmax
        x = self.embedding_dropout(torch.cat([self.users(users), self.movies(movies)], dim=1))
        for layer in self.hidden_layers:
            x = self.dropout(F.relu(layer(x)))
        return low + (high - low) * torch.sigmoid(self.fc(x))
"""),
         expected={T1: 0}, message="hidden layer(s) need"),
    Case("deep-hidden-dropout-embedding-rate", "deep", "the hidden layers' dropout uses embedding_dropout (copy-paste)",
         edits=(edit("hidden_layers.append(nn.Dropout(dropout_rate))", "hidden_layers.append(nn.Dropout(embedding_dropout))"),),
         expected={T1: 0}, message="nn.Dropout(dropout_rate)"),
    Case("deep-int-hidden-only", "deep", "one hidden layer nn.Linear(2 * n_factors, hidden): a list hidden fails",
         code=net("""
        self.users = nn.Embedding(n_users, n_factors)
        self.movies = nn.Embedding(n_movies, n_factors)
        self.drop = nn.Dropout(embedding_dropout)
        self.hidden = nn.Sequential(nn.Linear(2 * n_factors, hidden), nn.ReLU(), nn.Dropout(dropout_rate))
        self.fc = nn.Linear(hidden, 1)
""", RANGE + CAT + DROP + HIDDEN + HEAD + SCALE),
         expected={T1: 0}, message="raised TypeError"),
    Case("deep-no-embedding-dropout", "deep", "no embedding dropout at all (neither in __init__ nor in forward)",
         edits=(edit("        self.drop = nn.Dropout(embedding_dropout)\n", ""), edit(DROP, "")),
         expected={T1: 0}, message="Add the embedding dropout"),
    Case("deep-dropout-after-hidden", "deep", "the embedding dropout applied after the hidden layers",
         edits=(edit(DROP + HIDDEN, HIDDEN + DROP),),
         expected={T2: 0}, message="must act on the concatenated embeddings"),
    Case("deep-dropout-user-only", "deep", "the embedding dropout applied to the user embedding only",
         edits=(edit(CAT + DROP, "        x = torch.cat([self.drop(self.users(users)), self.movies(movies)], dim=1)\n"),),
         expected={T2: 0}, message="must act on the concatenated embeddings"),
    Case("deep-no-relu", "deep", "no ReLU in the hidden layers (a linear stack)",
         edits=(edit("                hidden_layers.append(nn.ReLU())\n", ""),),
         expected={T2: 0}, message="The ReLU activations are missing"),
    Case("deep-relu-on-output", "deep", "a ReLU on the final layer's output before the sigmoid",
         edits=(edit(HEAD, "        x = torch.sigmoid(F.relu(self.fc(x)))\n"),),
         expected={T2: 0}, message="sigmoid, scaling"),
    Case("deep-tanh-output", "deep", "tanh instead of the sigmoid, rescaled from (-1, 1)",
         edits=(edit(HEAD + SCALE, "        x = torch.tanh(self.fc(x))\n        return low + (high - low) * (x + 1) / 2"),),
         expected={T2: 0}, message="sigmoid, scaling"),
    Case("deep-minmax-ignored", "deep", "minmax ignored: always 1 + 4 * sigmoid",
         edits=(edit(RANGE, "        low, high = 1.0, 5.0\n"),),
         expected={T2: 0}, message="minmax=[low, high] is the rating range"),
    Case("deep-default-range-0-5", "deep", "the default range taken as [0, 5]",
         edits=(edit(RANGE, "        low, high = (0.0, 5.0) if minmax is None else minmax\n"),),
         expected={T2: 0}, message="Wrong output scaling"),
    Case("deep-cat-dim0", "deep", "embeddings concatenated along the batch axis (dim=0)",
         edits=(edit("torch.cat([self.users(users), self.movies(movies)], dim=1)",
                     "torch.cat([self.users(users), self.movies(movies)])"),),
         expected={T2: 0}, message="along the feature axis"),
    Case("deep-lookup-swapped", "deep", "users looked up in the movie embedding and movies in the user embedding",
         edits=(edit("torch.cat([self.users(users), self.movies(movies)], dim=1)",
                     "torch.cat([self.users(movies), self.movies(users)], dim=1)"),),
         expected={T2: 0}, message="Look users up in the users embedding"),
    Case("deep-hidden-dropouts-unused", "deep", "hidden dropouts registered but never applied in forward",
         code=net("""
        sizes = [hidden] if isinstance(hidden, int) else hidden
        self.users = nn.Embedding(n_users, n_factors)
        self.movies = nn.Embedding(n_movies, n_factors)
        self.drop = nn.Dropout(embedding_dropout)
        self.linears = nn.ModuleList()
        self.dropouts = nn.ModuleList()
        n_in = 2 * n_factors
        for n_out in sizes:
            self.linears.append(nn.Linear(n_in, n_out))
            if dropout_rate > 0:
                self.dropouts.append(nn.Dropout(dropout_rate))
            n_in = n_out
        self.fc = nn.Linear(n_in, 1)
""", RANGE + CAT + DROP + """
        for linear in self.linears:
            x = F.relu(linear(x))
""" + HEAD + SCALE),
         expected={T2: 0}, message="each hidden layer's dropout (p=1 here) must act after that layer's ReLU"),
    Case("deep-functional-hidden-dropout-once", "deep", "the hidden dropout applied functionally once, after the "
                                                     "whole hidden stack (the task asks for one per hidden layer)",
         code=net("""
        sizes = [hidden] if isinstance(hidden, int) else list(hidden)
        self.users = nn.Embedding(n_users, n_factors)
        self.movies = nn.Embedding(n_movies, n_factors)
        self.drop = nn.Dropout(embedding_dropout)
        self.p = dropout_rate
        layers, n_in = [], 2 * n_factors
        for n_out in sizes:
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
            n_in = n_out
        self.hidden = nn.Sequential(*layers)
        self.fc = nn.Linear(n_in, 1)
""", RANGE + CAT + DROP + HIDDEN + "        x = F.dropout(x, self.p, training=self.training)\n" + HEAD + SCALE),
         expected={T1: 0}, message="hidden layer(s) need"),
    Case("deep-functional-dropout-wrong-rate", "deep", "no Dropout module; the embedding dropout applied "
                                                       "functionally with dropout_rate (copy-paste)",
         edits=(edit("        self.drop = nn.Dropout(embedding_dropout)\n",
                     "        self.rate = dropout_rate\n"),
                edit(DROP, "        x = F.dropout(x, self.rate, training=self.training)\n")),
         expected={T1: 0}, message="Add the embedding dropout"),
    Case("deep-functional-dropout-hard-coded", "deep", "no Dropout module; the embedding dropout applied "
                                                       "functionally with a hard-coded p=0.02",
         edits=(edit("        self.drop = nn.Dropout(embedding_dropout)\n", ""),
                edit(DROP, "        x = F.dropout(x, 0.02, training=self.training)\n")),
         expected={T1: 0}, message="Add the embedding dropout"),
    Case("deep-detached-output", "deep", "the output detached (.detach()) in forward",
         edits=(edit(SCALE, "        return (low + (high - low) * x).detach()"),),
         expected={T2: 0}, message="forward detaches it"),
)

CASES = CORRECT + PORTED + MISTAKES

#: Also graded through the real `python -m grader` path (tests/pipeline), besides every case that needs a kernel:
#: the issue's own examples and one case of each kind; the in-process test grades every case.
BATCH = {
    "deep-solution", "deep-ok-functional-dropout", "deep-ok-modulelist-sigmoid-module", "deep-hidden-reversed",
    "deep-extra-linear", "deep-embedding-row-too-many", "deep-dropout-after-hidden", "deep-dropout-user-only",
    "deep-plain-list", "deep-hidden-int", "deep-concat-swapped", "deep-dropout-in-eval",
}
