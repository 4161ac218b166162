"""Learning from history (issue 18; docs/LEARNING.md).

| module     | what                                                                          |
|------------|-------------------------------------------------------------------------------|
| buffers    | buffer recommendations from actual durations (numpy, scipy): the statistics   |
| trace      | a shop's history as the learners read it, and its CSV format                  |
| generator  | a seeded generated history (daily and weekly cycles, popular barbers, ...)    |
| features   | the conflict model's rows, from a trace (training) or the database (serving)  |
| model      | the conflict model's candidates and baselines (scikit-learn), its file        |
| serving    | availability's ?predict=true: the model file loaded, the slots marked         |
| evaluate   | `make evaluate`: both learners scored on history they did not see             |
| cli        | `python -m app learn export | train`                                         |

The database extracts (booking.service_durations, booking.slot_demand,
booking.booking_history); these modules only compute. Nothing here is on the booking path:
a default buffer applies only once an admin applied it, and a prediction is advice.
"""
