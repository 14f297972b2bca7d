"""A voltage divider: a battery and two resistors in series, the output across R2."""
import schemdraw
import schemdraw.elements as elm

d = schemdraw.Drawing()
d += elm.Battery().up().label("12 V")
d += elm.Resistor().right().label("R1 = 4 kΩ")
d += elm.Resistor().down().label("R2 = 2 kΩ", loc="bottom").idot()
d += elm.Line().left()
d += elm.Ground()
d.save("divider.png")
