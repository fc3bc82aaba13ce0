"""Case conferences: scheduling, the agenda, consent for one conference, the case view (a reader
of the disclosure flow), outcomes into the shared plan, and the obstacle register."""
