"""Case conferences (casuïstiekoverleg, expert team): the agenda, the participant's answer for one
conference, the outcome and the obstacle register. It knows nothing of the gateway, the plan or
the consent registry: the gateway passes in what it needs and writes agreed actions to the plan."""
