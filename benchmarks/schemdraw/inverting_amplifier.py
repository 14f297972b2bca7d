"""An inverting operational amplifier with gain -Rf/Rin."""
import schemdraw
import schemdraw.elements as elm

with schemdraw.Drawing() as d:
    op = elm.Opamp(leads=True)
    elm.Line().down(d.unit / 4).at(op.in2)
    elm.Ground(lead=False)
    Rin = elm.Resistor().at(op.in1).left().idot().label("$R_{in}$", loc="bot").label("$v_{in}$", loc="left")
    elm.Line().up(d.unit / 2).at(op.in1)
    elm.Resistor().tox(op.out).label("$R_f$")
    elm.Line().toy(op.out).dot()
    elm.Line().right(d.unit / 4).at(op.out).label("$v_{o}$", loc="right")
